#!/usr/bin/python3
"""Drives real QGIS (PyQGIS, headless) against a running villageplan service.

Reads a JSON job on stdin:
  {"base": "http://127.0.0.1:PORT",
   "layers": ["roads", ...],                      # OAPIF collections to load
   "filter": {"layer": "roads", "expression": "\"admin_grade\" = '县道'"},
   "extent4326": [minlon, minlat, maxlon, maxlat], # area to render
   "png": "/path/to/out.png"}
and prints one JSON object on stdout with what QGIS saw:
  {"qgis_version", "layers": {id: {"valid", "error", "count", "crs"}},
   "filtered": n, "tiles_valid", "style_warnings": [...],
   "renderer_ok", "labeling_ok", "render_errors": [...], "png"}
The Go test (service_test.go) compares these facts with the database; this
script judges nothing itself. Run it with Debian's /usr/bin/python3 and
QT_QPA_PLATFORM=offscreen.
"""
import json
import os
import sys
import urllib.request

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsMapBoxGlStyleConverter,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def count(layer, expression=None):
    # Iterate: featureCount() of a remote provider may be an estimate (-1).
    if expression is not None:
        layer.setSubsetString(expression)
    return sum(1 for _ in layer.getFeatures())


def main():
    job = json.load(sys.stdin)
    base = job["base"].rstrip("/")
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    out = {"qgis_version": Qgis.QGIS_VERSION, "layers": {}}

    # OGC API – Features through QGIS's OAPIF provider.
    for lid in job["layers"]:
        uri = "url='%s' typename='%s'" % (base, lid)
        vl = QgsVectorLayer(uri, lid, "OAPIF")
        info = {"valid": vl.isValid(), "count": -1,
                "crs": vl.crs().authid()}
        if vl.isValid():
            info["count"] = count(vl)
        out["layers"][lid] = info
    flt = job.get("filter")
    if flt:
        vl = QgsVectorLayer("url='%s' typename='%s'" % (base, flt["layer"]), flt["layer"], "OAPIF")
        out["filtered"] = count(vl, flt["expression"]) if vl.isValid() else -1
        out["subset"] = vl.subsetString()

    # Vector tiles with the service's MapLibre style through QGIS's converter.
    with urllib.request.urlopen(base + "/tiles/map.json") as r:
        tj = json.load(r)
    with urllib.request.urlopen(base + "/styles/default.json") as r:
        style = json.load(r)
    vt_uri = "type=xyz&url=%s&zmin=%d&zmax=%d" % (tj["tiles"][0], tj["minzoom"], min(tj["maxzoom"], 18))
    vt = QgsVectorTileLayer(vt_uri, "一张图 basemap")
    out["tiles_valid"] = vt.isValid()
    conv = QgsMapBoxGlStyleConverter()
    res = conv.convert(style)
    out["convert_result"] = int(res)
    out["convert_error"] = conv.errorMessage()
    out["style_warnings"] = list(conv.warnings())
    out["renderer_ok"] = conv.renderer() is not None
    out["labeling_ok"] = conv.labeling() is not None
    if conv.renderer() is not None:
        vt.setRenderer(conv.renderer())
    if conv.labeling() is not None:
        vt.setLabeling(conv.labeling())

    # Render the township in Web Mercator.
    crs = QgsCoordinateReferenceSystem("EPSG:3857")
    tr = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"), crs, QgsProject.instance())
    e = job["extent4326"]
    extent = tr.transformBoundingBox(QgsRectangle(e[0], e[1], e[2], e[3]))
    ms = QgsMapSettings()
    ms.setLayers([vt])
    ms.setDestinationCrs(crs)
    ms.setOutputSize(QSize(1200, 900))
    ms.setExtent(extent)
    ms.setBackgroundColor(QColor("#ffffff"))
    rj = QgsMapRendererParallelJob(ms)
    rj.start()
    rj.waitForFinished()
    out["render_errors"] = [err.message for err in rj.errors()]
    out["png"] = job["png"]
    out["png_saved"] = rj.renderedImage().save(job["png"], "PNG")
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    # QGIS 3.22 crashes in exitQgis() while layers are alive; the answer is
    # written, so leave without tearing down.
    os._exit(0)


if __name__ == "__main__":
    main()
