// Package browsertest drives the web map (/map) and the approval desk page
// (/desk) in a real headless Chromium (chromedp over the DevTools
// protocol) against the whole service: httpapi.New on a fresh PostGIS
// database loaded with the sample township.
//
// Run with `go test ./internal/web/browsertest/` (part of `go test ./...`).
// The tests skip, saying why, when no Chromium is found (Debian's package
// `chromium`; set VILLAGEPLAN_CHROMIUM to use another binary) or with
// -short. Screenshots and a timing report are written to the folder named
// by VILLAGEPLAN_TEST_ARTIFACTS, by default artifacts/ beside this file.
package browsertest
