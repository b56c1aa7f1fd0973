package httpapi

// routeFeatures mounts the OGC API – Features routes.
func (s *Server) routeFeatures() {}
