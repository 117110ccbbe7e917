"""three.js for the web app's 3D viewer, from the npm package ``three`` (MIT).

Not a model, but it travels the same way: ``npm pack``, SHA-256 of each file as shipped, the
store under ``$MIEN_HOME``, ``mien models pull --all``. The app serves these files under
``/static/vendor/three/`` with the package's own layout (``WEB_FILES``), so the relative
imports between them resolve; nothing is fetched from a CDN. ``GLTFLoader.js`` imports the
bare name ``three``, which the page's import map points at ``build/three.module.js``.
"""

from ..registry import ModelSpec, Source

_PACKAGE, _VERSION = "three", "0.187.0"
_LICENSE = "MIT (three.js authors)"


def _file(name: str, member: str, sha256: str, size: int, description: str) -> ModelSpec:
    return ModelSpec(name=name, task="web", source=Source("npm", _PACKAGE, _VERSION, f"package/{member}"),
                     sha256=sha256, license=_LICENSE, commercial=True, format="js", size_bytes=size,
                     description=description)


SPECS = [
    _file("three", "build/three.module.js", "104f56145899722094556490d787aae0617cc2fc3382f31df02d724ea1aee341",
          658900, "three.js WebGL renderer (ES module) for the web app's avatar viewer."),
    _file("three-core", "build/three.core.js", "613e370f76638fdef83926642bf256dc9615684922de1ce1f63a8583e5d78578",
          1474799, "three.js core (imported by three.module.js)."),
    _file("three-gltf-loader", "examples/jsm/loaders/GLTFLoader.js",
          "532ac726e120039acbcd6cf54328c57acbf7b438176afaa6951257126d11bff1", 119861,
          "three.js glTF 2.0 loader: reads the .glb that /v1/avatar returns."),
    _file("three-buffer-geometry-utils", "examples/jsm/utils/BufferGeometryUtils.js",
          "7bda2a8ba836b2bcf67cb938d4b9e1bb5d1b1bc616817103ed858c0b58296ce7", 39153,
          "three.js geometry helpers (imported by GLTFLoader.js)."),
    _file("three-skeleton-utils", "examples/jsm/utils/SkeletonUtils.js",
          "b1632a703206c3d830de9fcbe515696770d04b71a15ee6b50afa6d2c3298c86f", 11535,
          "three.js skeleton helpers (imported by GLTFLoader.js)."),
    _file("three-license", "LICENSE", "8b378ebe60e2fe500158cb0ac71cb5e8b7d92953c2abcc63a0eb90499653b5bc", 1081,
          "three.js's MIT licence text, served beside its files."),
]

# Path under /static/vendor/three/ -> the registry name holding that file.
WEB_FILES = {spec.source.member.removeprefix("package/"): spec.name for spec in SPECS}
PULL_COMMAND = "mien models pull " + " ".join(spec.name for spec in SPECS)
