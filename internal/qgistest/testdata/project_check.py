#!/usr/bin/python3
"""Opens the service's QGIS project with PyQGIS (headless) and reports it.

Reads a JSON job on stdin:
  {"project": "/path/villageplan.qgs",
   "extent4326": [minlon, minlat, maxlon, maxlat], "png": "/path/out.png"}
and prints one JSON object on stdout:
  {"read": bool, "error", "crs", "groups": {group: [layer names]},
   "layers": [{"id", "name", "type", "provider", "valid", "count",
               "renderer", "legend": [labels], "source", "styles"}],
   "png_errors": [...], "png_saved", "png_labels" (labels placed), "view_extent",
   and the same png_basemap_* for the vector-tile basemap alone}
The Go test (project_test.go) judges these facts.
"""
import json
import os
import sys

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsLayerTreeGroup,
    QgsLayerTreeLayer,
    QgsMapLayerType,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def main():
    job = json.load(sys.stdin)
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    prj = QgsProject.instance()
    out = {"read": prj.read(job["project"]), "error": prj.error()}
    out["crs"] = prj.crs().authid()
    out["title"] = prj.title()

    groups = {}
    for node in prj.layerTreeRoot().children():
        if isinstance(node, QgsLayerTreeGroup):
            groups[node.name()] = [c.name() for c in node.children() if isinstance(c, QgsLayerTreeLayer)]
    out["groups"] = groups

    layers = []
    for lyr in prj.layerTreeRoot().layerOrder():
        info = {"id": lyr.id(), "name": lyr.name(), "valid": lyr.isValid(), "source": lyr.source(),
                "crs": lyr.crs().authid()}
        if lyr.type() == QgsMapLayerType.VectorLayer:
            info["type"] = "vector"
            info["provider"] = lyr.providerType()
            info["count"] = sum(1 for _ in lyr.getFeatures()) if lyr.isValid() else -1
            r = lyr.renderer()
            info["renderer"] = r.type() if r else ""
            info["legend"] = [it.label() for it in r.legendSymbolItems()] if r else []
            info["labels"] = lyr.labelsEnabled()
        elif lyr.type() == QgsMapLayerType.VectorTileLayer:
            info["type"] = "vector-tile"
            r = lyr.renderer()
            info["renderer"] = r.type() if r else ""
            info["styles"] = len(r.styles()) if r else 0
        layers.append(info)
    out["layers"] = layers

    # Render every layer (the basemap too) in the project CRS.
    crs = prj.crs()
    tr = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"), crs, prj)
    e = job["extent4326"]
    extent = tr.transformBoundingBox(QgsRectangle(e[0], e[1], e[2], e[3]))
    out["render_extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]
    view = prj.viewSettings().defaultViewExtent()
    out["view_extent"] = [view.xMinimum(), view.yMinimum(), view.xMaximum(), view.yMaximum()]
    for name, lyrs in (("png", [l for l in prj.layerTreeRoot().layerOrder() if prj.layerTreeRoot().findLayer(l.id()).isVisible()]),
                       ("png_basemap", [l for l in prj.layerTreeRoot().layerOrder() if l.type() == QgsMapLayerType.VectorTileLayer])):
        ms = QgsMapSettings()
        ms.setLayers(lyrs)
        ms.setDestinationCrs(crs)
        ms.setOutputSize(QSize(1200, 900))
        ms.setExtent(extent)
        ms.setBackgroundColor(QColor("#ffffff"))
        rj = QgsMapRendererParallelJob(ms)
        rj.start()
        rj.waitForFinished()
        out[name + "_layers"] = len(lyrs)
        res = rj.takeLabelingResults()
        out[name + "_labels"] = len(res.allLabels()) if res else 0
        out[name + "_errors"] = [err.message for err in rj.errors()]
        out[name + "_saved"] = rj.renderedImage().save(job[name], "PNG")
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    os._exit(0)  # QGIS 3.22 may crash in exitQgis(); the answer is written


if __name__ == "__main__":
    main()
