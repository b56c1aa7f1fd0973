package httpapi

// OpenAPIExcluded exposes the routes /api leaves out on purpose to the
// completeness test of package httpapi_test.
var OpenAPIExcluded = openAPIExcluded
