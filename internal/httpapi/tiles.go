package httpapi

// routeTiles mounts the vector-tile, TileJSON and style routes.
func (s *Server) routeTiles() {}
