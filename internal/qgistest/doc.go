// Package qgistest drives real QGIS (Debian's PyQGIS 3.22, headless with
// QT_QPA_PLATFORM=offscreen) against the villageplan service as an analyst's
// desktop would: OGC API – Features layers through QGIS's OAPIF provider,
// the vector tiles styled by the service's MapLibre style through QGIS's
// MapBox GL style converter, and the downloadable QGIS project of the
// one-map. The package holds tests only; the Python scripts under testdata/
// report what QGIS saw as JSON and the Go tests judge it against the
// database. `make test` installs QGIS (internal/devtools/install-deps.sh
// --with-test-tools); without it the tests fail, they never skip (only
// -short skips them).
package qgistest
