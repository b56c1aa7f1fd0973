package httpapi

// routeWeb mounts the planners' web map (/map) and the approval desk page
// (/desk) with their embedded static assets.
func (s *Server) routeWeb() {}
