"""Face generation with mien's own conditional GAN (trained by ``mien.generate.train``).

Inference runs on onnxruntime; torch is needed only to train.
"""
