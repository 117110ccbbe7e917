"""Sample photos that registry packages ship, for the main command, tests and benchmarks."""

from ..registry import ModelSpec, Source

SPECS = [
    ModelSpec(
        name="sample-group",
        task="sample",
        source=Source("pypi", "insightface", "2.1", "insightface/data/images/t1.jpg"),
        sha256="47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489",
        license="shipped in the MIT-licensed insightface wheel; photo rights unstated",
        commercial=False,
        format="image",
        size_bytes=128824,
        description="Six-face group photo (1280 px) for the README's main command and the speed benchmark.",
    ),
]
