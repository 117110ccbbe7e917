"""Train mien's conditional face GANs on UTKFace (torch at training time only).

    python -m mien.generate.train --out /tmp/gan --data utk_train128.npz --batch 64 --aux 0.2 --beta1 0 --publish OUT
    /tmp/torchenv/bin/python -m mien.generate.train --arch dcgan64 --out /tmp/mien_gan --minutes 90 --threads 1
    /tmp/torchenv/bin/python -m mien.generate.train --arch dcgan64 --out /tmp/mien_gan --export gan64.onnx

Two architectures. ``resnet128`` (gan128, the default; for a GPU): residual generator and
discriminator in ``mien.generate.resnet_gan``. ``dcgan64`` (gan64, sized for a 2-core CPU,
below): a DCGAN-style generator (transposed convolutions 4 -> 64 px) with conditional batch
norm on learned age-band and gender embeddings, a discriminator with spectral norm and a
projection head for both conditions. Both: hinge loss, DiffAugment (translation, colour,
cutout) on real and fake images, and an exponential moving average of the generator weights
that is what gets exported; ``--mode-seeking`` adds Mao et al.'s (2019) term against a
generator that ignores its latent, ``--aux`` a condition classifier (resnet128). Seeded and
resumable: ``--out`` holds ``ckpt.pt`` (saved every ``--save-every`` steps and on exit) and
``log.jsonl`` (losses). The held-out tenth of UTKFace (``mien.generate.data``) is never read.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm

from .data import AGE_BANDS, GENDERS, load_pack, load_pixels, load_records
from .resnet_gan import CondBatchNorm

Z_DIM = 128
N_BANDS = len(AGE_BANDS)
N_GENDERS = len(GENDERS)


class Generator(nn.Module):
    """(z, age band, gender) -> (N, 3, 64, 64) image in [-1, 1]."""

    def __init__(self, ngf: int = 40, z_dim: int = Z_DIM) -> None:
        super().__init__()
        cond_dim = 48
        self.age_embed = nn.Embedding(N_BANDS, 32)
        self.gender_embed = nn.Embedding(N_GENDERS, 16)
        chans = [ngf * 8, ngf * 4, ngf * 2, ngf, ngf // 2]
        self.fc = nn.Linear(z_dim + cond_dim, chans[0] * 16)
        self.bn0 = CondBatchNorm(chans[0], cond_dim)
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False) for a, b in zip(chans[:-1], chans[1:])
        )
        self.bns = nn.ModuleList(CondBatchNorm(b, cond_dim) for b in chans[1:])
        self.to_rgb = nn.Conv2d(chans[-1], 3, 3, 1, 1)
        self.c0 = chans[0]

    def forward(self, z: torch.Tensor, age: torch.Tensor, gender: torch.Tensor) -> torch.Tensor:
        cond = torch.cat([self.age_embed(age), self.gender_embed(gender)], 1)
        x = self.fc(torch.cat([z, cond], 1)).unflatten(1, (self.c0, 4, 4))
        x = F.relu(self.bn0(x, cond))
        for up, bn in zip(self.ups, self.bns):
            x = F.relu(bn(up(x), cond))
        return torch.tanh(self.to_rgb(x))


class Discriminator(nn.Module):
    """Spectral-norm conv net with a projection head for age band and gender."""

    def __init__(self, ndf: int = 32) -> None:
        super().__init__()
        chans = [3, ndf, ndf * 2, ndf * 4, ndf * 8]
        self.convs = nn.ModuleList(
            spectral_norm(nn.Conv2d(a, b, 4, 2, 1)) for a, b in zip(chans[:-1], chans[1:])
        )
        self.mid = spectral_norm(nn.Conv2d(chans[-1], chans[-1], 3, 1, 1))
        self.linear = spectral_norm(nn.Linear(chans[-1], 1))
        self.age_embed = spectral_norm(nn.Embedding(N_BANDS, chans[-1]))
        self.gender_embed = spectral_norm(nn.Embedding(N_GENDERS, chans[-1]))

    def forward(self, x: torch.Tensor, age: torch.Tensor, gender: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        x = F.leaky_relu(self.mid(x), 0.2)
        h = x.sum(dim=(2, 3))
        out = self.linear(h).squeeze(1)
        return out + (self.age_embed(age) * h).sum(1) + (self.gender_embed(gender) * h).sum(1)


def diff_augment(x: torch.Tensor, cutout: bool = True) -> torch.Tensor:
    """DiffAugment (Zhao et al. 2020): colour, translation by 1/8, cutout of 1/2 (differentiable)."""
    n = x.shape[0]
    dev = x.device
    x = x + (torch.rand(n, 1, 1, 1, device=dev) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(n, 1, 1, 1, device=dev) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * (torch.rand(n, 1, 1, 1, device=dev) + 0.5) + mean
    h, w = x.shape[2:]
    sh, sw = h // 8, w // 8
    tx = torch.randint(-sh, sh + 1, (n, 1, 1), device=dev)
    ty = torch.randint(-sw, sw + 1, (n, 1, 1), device=dev)
    gb, gx, gy = torch.meshgrid(torch.arange(n, device=dev), torch.arange(h, device=dev), torch.arange(w, device=dev), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    x = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)[gb, gx, gy].permute(0, 3, 1, 2)
    if not cutout:
        return x
    ch, cw = h // 2, w // 2
    ox = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=dev)
    oy = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=dev)
    gb, gx, gy = torch.meshgrid(torch.arange(n, device=dev), torch.arange(ch, device=dev), torch.arange(cw, device=dev), indexing="ij")
    gx = torch.clamp(gx + ox - ch // 2, 0, h - 1)
    gy = torch.clamp(gy + oy - cw // 2, 0, w - 1)
    mask = torch.ones(n, h, w, device=dev)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


def load_data(cache: Path, size: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training pixels (N,size,size,3) uint8, age bands, genders; cached as .npz in the run folder."""
    if cache.is_file():
        d = np.load(cache)
        return d["x"], d["age"], d["gender"]
    recs = load_records("train")
    x = load_pixels(recs, size)
    age = np.array([r.band for r in recs], np.int64)
    gender = np.array([r.gender for r in recs], np.int64)
    np.savez(cache, x=x, age=age, gender=gender)
    return x, age, gender


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.lerp_(pm, 1 - decay)


@torch.no_grad()
def recalibrate_bn(g: nn.Module, age: np.ndarray, gender: np.ndarray, batches: int = 40, seed: int = 0) -> None:
    """Re-estimate batch-norm statistics of the EMA generator with its own activations."""
    dev = next(g.parameters()).device
    rng = torch.Generator().manual_seed(seed)
    for m in g.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average
    g.train()
    for _ in range(batches):
        idx = torch.randint(0, len(age), (64,), generator=rng)
        z = torch.randn(64, Z_DIM, generator=rng)
        g(z.to(dev), torch.from_numpy(age)[idx].to(dev), torch.from_numpy(gender)[idx].to(dev))
    g.eval()


def export_onnx(g: nn.Module, path: Path) -> None:
    g = g.cpu().eval()
    z = torch.randn(2, Z_DIM)
    age = torch.tensor([3, 5])
    gender = torch.tensor([0, 1])
    torch.onnx.export(
        g, (z, age, gender), str(path), input_names=["z", "age", "gender"], output_names=["image"],
        dynamic_axes={"z": {0: "n"}, "age": {0: "n"}, "gender": {0: "n"}, "image": {0: "n"}},
        opset_version=17, dynamo=False,
    )
    _store_weights_fp16(path)


def _store_weights_fp16(path: Path) -> None:
    """Keep float weights as float16 in the file (half the size) with a Cast back to float32."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or np.prod(init.dims) < 256:
            continue
        arr = numpy_helper.to_array(init).astype(np.float16)
        name = init.name
        init.CopyFrom(numpy_helper.from_array(arr, name + "_fp16"))
        casts.append(helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT))
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def build(arch: str, ngf: int, ndf: int) -> tuple[nn.Module, nn.Module, int]:
    """(generator, discriminator, image size) of an architecture."""
    if arch == "dcgan64":
        return Generator(ngf), Discriminator(ndf), 64
    from . import resnet_gan

    return resnet_gan.Generator(), resnet_gan.Discriminator(), 128


def judge(d: nn.Module, x: torch.Tensor, age: torch.Tensor, gender: torch.Tensor):
    """(score, age logits or None, gender logits or None) for either discriminator."""
    out = d(x, age, gender)
    return out if isinstance(out, tuple) else (out, None, None)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("/tmp/mien_gan"))
    p.add_argument("--arch", choices=["resnet128", "dcgan64"], default="resnet128")
    p.add_argument("--data", type=Path, help="packed training faces (mien.generate.data.pack_records); "
                   "default: read the UTKFace training split from MIEN_DATA")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--steps", type=int, default=100000)
    p.add_argument("--minutes", type=float, default=0, help="stop after this much wall clock (0: no limit)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--ngf", type=int, default=40, help="dcgan64 only")
    p.add_argument("--ndf", type=int, default=32, help="dcgan64 only")
    p.add_argument("--lr-g", type=float, default=2e-4)
    p.add_argument("--lr-d", type=float, default=2e-4)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--aux", type=float, default=0.0, help="weight of the condition-classifier term (resnet128)")
    p.add_argument("--no-cutout", action="store_true", help="DiffAugment without cutout (a stronger D signal)")
    p.add_argument("--mode-seeking", type=float, default=0.0, help="weight of the mode-seeking term (0: off)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--sample-every", type=int, default=250)
    p.add_argument("--publish", type=Path, help="also keep the EMA generator (float16), the latest sample grid "
                   "and, at the end, the ONNX export in this folder (a GPU machine's $OUT)")
    p.add_argument("--init", type=Path, help="start from a --publish folder (g_ema_fp16.pt, d_fp16.pt, "
                   "g_fp16.pt if there) when --out has no checkpoint: carries a run to a fresh machine")
    p.add_argument("--export", type=Path, help="export the generator of the checkpoint to ONNX and exit")
    p.add_argument("--export-weights", choices=["ema", "live"], default="ema", help="which generator --export writes")
    args = p.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    args.out.mkdir(parents=True, exist_ok=True)
    g, d, size = build(args.arch, args.ngf, args.ndf)
    if args.data:
        x_np, age_np, gender_np = load_pack(args.data, size)
    else:
        x_np, age_np, gender_np = load_data(args.out / f"train{size}.npz", size)
    ckpt_path = args.out / "ckpt.pt"

    g, d = g.to(dev), d.to(dev)
    g_ema = copy.deepcopy(g).eval()
    betas = (args.beta1, 0.999)
    opt_g = torch.optim.Adam(g.parameters(), args.lr_g, betas=betas)
    opt_d = torch.optim.Adam(d.parameters(), args.lr_d, betas=betas)
    step, seen_s = 0, 0.0
    if ckpt_path.is_file():
        ck = torch.load(ckpt_path, weights_only=False, map_location=dev)
        for mod, key in ((g, "g"), (d, "d"), (g_ema, "g_ema"), (opt_g, "opt_g"), (opt_d, "opt_d")):
            mod.load_state_dict(ck[key])
        step, seen_s = ck["step"], ck.get("seconds", 0.0)
        torch.set_rng_state(ck["rng"].cpu())  # map_location moved it
        for opt, lr in ((opt_g, args.lr_g), (opt_d, args.lr_d)):  # learning rates may change on resume
            for group in opt.param_groups:
                group["lr"] = lr
        print(f"resumed at step {step}", flush=True)
    elif args.init:
        step = _load_published(args.init, g, d, g_ema, dev)
        print(f"initialised from {args.init} at step {step} (fresh optimiser state)", flush=True)

    if args.export:
        chosen = g_ema if args.export_weights == "ema" else g
        recalibrate_bn(chosen, age_np, gender_np)
        export_onnx(chosen, args.export)
        print(f"exported {args.export_weights} generator of step {step} to {args.export}")
        return

    n_params = sum(p.numel() for p in g.parameters())
    print(f"{len(x_np)} training faces at {size} px on {dev}; G {n_params/1e6:.2f}M params, "
          f"D {sum(p.numel() for p in d.parameters())/1e6:.2f}M", flush=True)
    x_all = torch.from_numpy(x_np).permute(0, 3, 1, 2).contiguous().to(dev)  # uint8
    age_all, gender_all = torch.from_numpy(age_np).to(dev), torch.from_numpy(gender_np).to(dev)
    # One column per condition (8 age bands x 2 genders), one row per fixed latent.
    fixed_z = torch.randn(4, Z_DIM, generator=torch.Generator().manual_seed(1234)).repeat_interleave(16, 0).to(dev)
    fixed_age = (torch.arange(64) % N_BANDS).to(dev)
    fixed_gender = ((torch.arange(64) // N_BANDS) % N_GENDERS).to(dev)

    def save() -> None:
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save({"g": g.state_dict(), "d": d.state_dict(), "g_ema": g_ema.state_dict(),
                    "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "step": step,
                    "seconds": seen_s, "rng": torch.get_rng_state(), "args": vars(args)}, tmp)
        tmp.replace(ckpt_path)

    def publish(final: bool, preview: Path | None = None) -> None:
        """``preview``: the grid just drawn for this step, copied rather than drawn again."""
        if not args.publish:
            return
        args.publish.mkdir(parents=True, exist_ok=True)
        torch.save({"g_ema": _fp16_state(g_ema), "step": step, "arch": args.arch, "args": vars(args)},
                   args.publish / "g_ema_fp16.pt")
        if preview is None:
            _sample_grid(g_ema, g, fixed_z, fixed_age, fixed_gender, args.publish / "samples.png")
        else:
            shutil.copyfile(preview, args.publish / "samples.png")
        if final:
            for name, mod in (("g_fp16.pt", g), ("d_fp16.pt", d)):
                torch.save(_fp16_state(mod), args.publish / name)
            try:  # a failed export must not lose the weights saved above
                chosen = copy.deepcopy(g_ema)
                recalibrate_bn(chosen, age_np, gender_np)
                export_onnx(chosen, args.publish / f"gan{size}.onnx")
            except Exception as exc:  # noqa: BLE001 - reported, weights are already safe
                print(f"ONNX export failed: {exc!r}", flush=True)

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    log = open(args.out / "log.jsonl", "a")
    t_start = time.time()
    t_last = t_start
    cut = not args.no_cutout
    while step < args.steps and not stop["now"]:
        if args.minutes and time.time() - t_start > args.minutes * 60:
            break
        idx = torch.randint(0, len(x_all), (args.batch,), device=dev)
        real = x_all[idx].float() / 127.5 - 1
        flip = torch.rand(args.batch, device=dev) < 0.5
        real = torch.where(flip[:, None, None, None], real.flip(3), real)
        a, gd = age_all[idx], gender_all[idx]
        z = torch.randn(args.batch, Z_DIM, device=dev)

        with torch.no_grad():
            fake = g(z, a, gd)
        score_real, age_logits, gender_logits = judge(d, diff_augment(real, cut), a, gd)
        score_fake = judge(d, diff_augment(fake, cut), a, gd)[0]
        loss_d_real = F.relu(1 - score_real).mean()
        loss_d_fake = F.relu(1 + score_fake).mean()
        loss_d = loss_d_real + loss_d_fake
        if args.aux and age_logits is not None:
            # The classifier learns the conditions from real faces only (no reward for fakes).
            loss_d = loss_d + args.aux * (F.cross_entropy(age_logits, a) + F.cross_entropy(gender_logits, gd))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        z = torch.randn(args.batch, Z_DIM, device=dev)
        if args.mode_seeking:
            # Mode seeking (Mao et al. 2019): pairs with one condition and two latents must differ.
            half = args.batch // 2
            a, gd = torch.cat([a[:half], a[:half]]), torch.cat([gd[:half], gd[:half]])
        fake = g(z, a, gd)
        score, age_logits, gender_logits = judge(d, diff_augment(fake, cut), a, gd)
        loss_g = -score.mean()
        if args.aux and age_logits is not None:
            loss_g = loss_g + args.aux * (F.cross_entropy(age_logits, a) + F.cross_entropy(gender_logits, gd))
        if args.mode_seeking:
            ratio = (fake[:half] - fake[half:2 * half]).abs().mean() / (z[:half] - z[half:2 * half]).abs().mean()
            loss_g = loss_g + args.mode_seeking / (ratio + 1e-5)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        step += 1
        ema_update(g_ema, g, min(args.ema, (1 + step) / (10 + step)))

        now = time.time()
        seen_s += now - t_last
        t_last = now
        if step % 10 == 0:
            rec = {"step": step, "d_real": round(loss_d_real.item(), 4), "d_fake": round(loss_d_fake.item(), 4),
                   "g": round(loss_g.item(), 4), "seconds": round(seen_s, 1)}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            if step % 50 == 0:
                print(rec, flush=True)
        if step % args.save_every == 0:
            save()
        if step % args.sample_every == 0:
            preview = args.out / f"sample_{step:06d}.png"
            _sample_grid(g_ema, g, fixed_z, fixed_age, fixed_gender, preview)
            publish(final=False, preview=preview)
    save()
    publish(final=True)
    print(f"stopped at step {step}", flush=True)


def _load_published(folder: Path, g: nn.Module, d: nn.Module, g_ema: nn.Module, dev: torch.device) -> int:
    """Load the float16 weights that ``--publish`` wrote; returns their step. Without
    g_fp16.pt (left behind to fit the carry limit) the live generator starts from the EMA."""
    published = torch.load(folder / "g_ema_fp16.pt", weights_only=False, map_location=dev)
    g_ema.load_state_dict(published["g_ema"])  # load_state_dict casts float16 back to float32
    live = folder / "g_fp16.pt"
    g.load_state_dict(torch.load(live, map_location=dev) if live.is_file() else published["g_ema"])
    d.load_state_dict(torch.load(folder / "d_fp16.pt", map_location=dev))
    return int(published["step"])


def _fp16_state(module: nn.Module) -> dict:
    """The module's state on the CPU, floating tensors as float16 (half the bytes to carry)."""
    return {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in module.state_dict().items()}


@torch.no_grad()
def _sample_grid(g_ema: nn.Module, g: nn.Module, z, age, gender, path: Path) -> None:
    from PIL import Image

    # EMA weights with the live generator's batch-norm statistics: a preview only.
    for be, bm in zip(g_ema.buffers(), g.buffers()):
        be.copy_(bm)
    g_ema.eval()
    img = ((g_ema(z, age, gender) + 1) * 127.5).clamp(0, 255).byte().permute(0, 2, 3, 1).cpu().numpy()
    cols = 16
    rows = [np.concatenate(list(img[i * cols:(i + 1) * cols]), 1) for i in range(len(img) // cols)]
    Image.fromarray(np.concatenate(rows, 0)).save(path)


if __name__ == "__main__":
    main()
