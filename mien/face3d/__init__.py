"""The face in 3D: a metric face from one photo, measurements, what-if simulations, avatars.

    >>> from mien import face3d
    >>> face = face3d.lift_face("me.jpg")                 # Face3D: 468 points in mm, pose removed
    >>> m = face3d.measure_image("me.jpg")               # FaceMeasurements: IPD, widths, thirds, asymmetry
    >>> m["ipd"].value, m["ipd"].uncertainty, m["face_width"].reason
    >>> sim = face3d.simulate("me.jpg", face3d.Changes(nose_width=-10, chin=3))
    >>> face3d.build_avatar("me.jpg").write("face.glb")   # or face.obj (+ .mtl + .png)

Modules: ``regions`` (named mesh points and regions, the mirror pairs), ``metric`` (the lift
to millimetres and what the scale rests on), ``capture`` (detector + mesh on the photo and its
mirror image), ``measures``, ``symmetry``, ``warp`` (piecewise-affine maps), ``simulate``,
``texture`` (UV unwrap, hidden half filled from the visible one), ``gltf`` and ``obj``
(writers), ``avatar``. Measurements are for research, not diagnosis; simulations show a
geometric change on the photo, not a surgical outcome.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_LAZY = {
    "Face3D": "metric", "Scale": "metric", "lift": "metric", "IRIS_MM": "metric",
    "FaceLifter": "capture", "lift_face": "capture",
    "MEASURES": "measures", "Measure": "measures", "FaceMeasurements": "measures", "Measurer": "measures",
    "measure_face": "measures", "measure_image": "measures", "NOTICE": "measures",
    "mirror_fit": "symmetry",
    "Changes": "simulate", "EDITS": "simulate", "Simulation": "simulate", "simulate": "simulate",
    "parse_amount": "simulate",
    "Avatar": "avatar", "build_avatar": "avatar",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
