"""The 128 px conditional ResNet GAN (torch; training only, inference runs the ONNX export).

Generator: BigGAN-style residual up-blocks 4 -> 128 px with conditional batch norm whose
gains and biases come from the age-band and gender embeddings and the latent itself (so
every scale sees the latent, not only the first layer). Discriminator: spectral-norm
residual down-blocks, a projection head for both conditions (Miyato & Koyama 2018) and
an auxiliary classifier for them: the projection alone left the gender condition weak
in the 64 px model (60% agreement), the classifier term pushes the generator to honour it.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm

from .data import AGE_BANDS, GENDERS

Z_DIM = 128
N_BANDS = len(AGE_BANDS)
N_GENDERS = len(GENDERS)
G_CHANNELS = (384, 256, 192, 128, 64, 32)  # at 4, 8, 16, 32, 64, 128 px
D_CHANNELS = (32, 64, 128, 256, 384, 384)  # after each block: 64, 32, 16, 8, 4, 4 px


class CondBatchNorm(nn.Module):
    """Batch norm without its own affine; gain and bias predicted from the condition vector."""

    def __init__(self, channels: int, cond_dim: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Linear(cond_dim, channels)
        self.bias = nn.Linear(cond_dim, channels)
        for layer in (self.gain, self.bias):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.bn(x) * (1 + self.gain(cond)[:, :, None, None]) + self.bias(cond)[:, :, None, None]


class GBlock(nn.Module):
    def __init__(self, cin: int, cout: int, cond_dim: int) -> None:
        super().__init__()
        self.bn1 = CondBatchNorm(cin, cond_dim)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.bn2 = CondBatchNorm(cout, cond_dim)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.skip = nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x, cond)), scale_factor=2.0, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), cond)))
        return h + self.skip(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Generator(nn.Module):
    """(z, age band, gender) -> (N, 3, 128, 128) image in [-1, 1]."""

    def __init__(self, z_dim: int = Z_DIM, channels: tuple[int, ...] = G_CHANNELS) -> None:
        super().__init__()
        self.age_embed = nn.Embedding(N_BANDS, 32)
        self.gender_embed = nn.Embedding(N_GENDERS, 16)
        cond_dim = 48 + z_dim
        self.fc = nn.Linear(cond_dim, channels[0] * 16)
        self.blocks = nn.ModuleList(GBlock(a, b, cond_dim) for a, b in zip(channels[:-1], channels[1:]))
        self.bn_out = nn.BatchNorm2d(channels[-1])
        self.to_rgb = nn.Conv2d(channels[-1], 3, 3, 1, 1)
        self.c0 = channels[0]
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)) and m not in self._cbn_linears():
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def _cbn_linears(self) -> list[nn.Module]:
        return [layer for m in self.modules() if isinstance(m, CondBatchNorm) for layer in (m.gain, m.bias)]

    def forward(self, z: torch.Tensor, age: torch.Tensor, gender: torch.Tensor) -> torch.Tensor:
        cond = torch.cat([self.age_embed(age), self.gender_embed(gender), z], 1)
        x = self.fc(cond).unflatten(1, (self.c0, 4, 4))
        for block in self.blocks:
            x = block(x, cond)
        return torch.tanh(self.to_rgb(F.relu(self.bn_out(x))))


class DBlock(nn.Module):
    def __init__(self, cin: int, cout: int, down: bool, first: bool) -> None:
        super().__init__()
        self.conv1 = spectral_norm(nn.Conv2d(cin, cout, 3, 1, 1))
        self.conv2 = spectral_norm(nn.Conv2d(cout, cout, 3, 1, 1))
        self.skip = spectral_norm(nn.Conv2d(cin, cout, 1)) if (cin != cout or down) else None
        self.down, self.first = down, first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.first else F.relu(x)
        h = self.conv2(F.relu(self.conv1(h)))
        if self.down:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.skip is not None:
            # The first block pools before its skip convolution (SNGAN's optimized block).
            s = self.skip(F.avg_pool2d(x, 2)) if (self.first and self.down) else self.skip(x)
            if self.down and not self.first:
                s = F.avg_pool2d(s, 2)
        return h + s


class Discriminator(nn.Module):
    """Returns (realness score (N,), age-band logits (N, 8), gender logits (N, 2))."""

    def __init__(self, channels: tuple[int, ...] = D_CHANNELS) -> None:
        super().__init__()
        ins = (3,) + channels[:-1]
        self.blocks = nn.ModuleList(
            DBlock(a, b, down=i < len(channels) - 1, first=i == 0) for i, (a, b) in enumerate(zip(ins, channels))
        )
        c = channels[-1]
        self.linear = spectral_norm(nn.Linear(c, 1))
        self.age_embed = spectral_norm(nn.Embedding(N_BANDS, c))
        self.gender_embed = spectral_norm(nn.Embedding(N_GENDERS, c))
        self.aux = spectral_norm(nn.Linear(c, N_BANDS + N_GENDERS))

    def forward(self, x: torch.Tensor, age: torch.Tensor, gender: torch.Tensor):
        for block in self.blocks:
            x = block(x)
        h = F.relu(x).sum(dim=(2, 3))
        score = self.linear(h).squeeze(1) + (self.age_embed(age) * h).sum(1) + (self.gender_embed(gender) * h).sum(1)
        logits = self.aux(h)
        return score, logits[:, :N_BANDS], logits[:, N_BANDS:]
