"""Run under `torchrun --nproc_per_node=2`: multi-crop DINO and SwAV (2 global views and N local crops per image) give the same
loss, DDP parameter gradients and state as one process on the concatenated batch.

Each rank's local crops are crop-major over its own images (row k*B + i = crop k of image i), so the one-process reference lays
the global batch out the same way: crop k of all W*B images, rank 0's first, then crop k+1. A negative control runs the reference
on the ranks' blocks simply concatenated (rank-major): that is a different pairing of crops and images and must NOT match.
The single-process references are computed *before* `init_process_group`, so the same code runs without collectives."""
import sys
import torch, torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from centerssl.core import world_size, rank, shutdown_dist
from centerssl.models import mlp_backbone, convert_global_bn
from centerssl.methods.dino import DINO
from centerssl.methods.swav import SwAV

B, N_LOCAL, TOL = 5, 3, 1e-6     # images per rank, local crops per image

def close(a, b, what, tol=TOL):
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    if a.shape != b.shape or not torch.allclose(a, b, atol=tol, rtol=0):
        sys.exit(f"rank {rank()}: {what} differs (max abs diff {(a - b).abs().max().item() if a.shape == b.shape else 'shape'}): {a.flatten()[:6]} vs {b.flatten()[:6]}")

def maxdiff(a, b): return (a.double() - b.double()).abs().max().item()

def data(W, step):
    "Global views (W*B, 4) and local crops (N_LOCAL, W*B, 4) of the global batch: local crop k of image j is XL[k, j]"
    g = torch.Generator().manual_seed(10 + step)
    X1 = torch.randn(W*B, 4, generator=g, dtype=torch.float64) + 1.
    X2 = X1 + 0.3*torch.randn(W*B, 4, generator=g, dtype=torch.float64)
    XL = X1 + 0.5*torch.randn(N_LOCAL, W*B, 4, generator=g, dtype=torch.float64)   # each local crop near its own image
    return X1, X2, XL

def methods():
    "DINO and SwAV, small, in float64, every BatchNorm global (SwAV's head); same weights on every call"
    torch.manual_seed(1); dino = DINO(*mlp_backbone(4, 8, 8, bn=False), out_dim=6, hidden_dim=8, bottleneck_dim=4, momentum_teacher=0.9).double()
    torch.manual_seed(2); swav = convert_global_bn(SwAV(*mlp_backbone(4, 8, 8), hidden_dim=8, out_dim=5, n_prototypes=7, freeze_prototypes_steps=0)).double()
    return dict(dino=dino, swav=swav)

def batch(W, step, images, layout):
    "The batch `(x1, x2, y, xl)` of `images` (indices into the global batch); `xl` crop-major over them, or rank-major ('rank-major')"
    X1, X2, XL = data(W, step)
    if layout == 'rank-major':                                   # the ranks' crop-major blocks, concatenated: the wrong reference
        xl = torch.cat([XL[:, r*B:(r + 1)*B].flatten(0, 1) for r in range(W)])
    else: xl = XL[:, images].flatten(0, 1)                       # crop k of every image of `images`, then crop k + 1
    return X1[images], X2[images], None, xl

def run(W, images, ddp, layout='crop-major', names=('dino', 'swav')):
    "Per method: losses, gradients and state over two SGD steps on the images `images` of the global batch"
    out = {}
    for name, m in methods().items():
        if name not in names: continue
        model = DDP(m) if ddp else m
        opt = torch.optim.SGD(m.param_groups(), lr=0.1)
        for step in range(2):
            res = model(batch(W, step, images, layout))
            opt.zero_grad(); res['loss'].backward()
            loss = res['loss'].detach().clone()
            if ddp: dist.all_reduce(loss); loss /= W               # per-rank means → global mean
            out[f'{name}_loss{step}'] = loss
            out[f'{name}_grads{step}'] = [p.grad.clone() for p in m.parameters() if p.grad is not None]
            for k in ('center_norm', 'logit_center_norm', 'prototype_center_norm'):
                if k in res: out[f'{name}_{k}{step}'] = res[k]
            opt.step(); m.on_step_end(step, 10)
        out[f'{name}_state'] = {k: v.clone() for k, v in m.state_dict().items()}
    return out

def main():
    W = 2                                                        # references first: one process, no collectives
    everyone = list(range(W*B))
    ref = run(W, everyone, ddp=False)
    wrong = run(W, everyone, ddp=False, layout='rank-major')
    dist.init_process_group('gloo')
    assert world_size() == W, f"run with --nproc_per_node={W}"
    r = rank()
    out = run(W, list(range(r*B, (r + 1)*B)), ddp=True)
    diffs = {}
    for name in ('dino', 'swav'):
        for step in range(2):
            close(out[f'{name}_loss{step}'], ref[f'{name}_loss{step}'], f"{name} multi-crop loss, step {step}")
            g, gr = out[f'{name}_grads{step}'], ref[f'{name}_grads{step}']
            if len(g) != len(gr): sys.exit(f"rank {r}: {name} has {len(g)} gradients under DDP, {len(gr)} in one process")
            for i, (a, b) in enumerate(zip(g, gr)): close(a, b, f"{name} multi-crop DDP gradient {i}, step {step}")
            for k in ('center_norm', 'logit_center_norm', 'prototype_center_norm'):
                if f'{name}_{k}{step}' in ref: close(out[f'{name}_{k}{step}'], ref[f'{name}_{k}{step}'], f"{name} {k}, step {step}")
        for k, v in ref[f'{name}_state'].items(): close(out[f'{name}_state'][k], v, f"{name} state '{k}' after two steps")
        # negative control: the rank-major layout pairs local crops with the wrong images, and the check sees it
        d = max(abs(out[f'{name}_loss0'].item() - wrong[f'{name}_loss0'].item()),
                max(maxdiff(a, b) for a, b in zip(out[f'{name}_grads0'], wrong[f'{name}_grads0'])))
        if not d > 1e-4: sys.exit(f"rank {r}: {name}: the rank-major reference unexpectedly matched DDP (max diff {d:.3g})")
        diffs[name] = d
    print(f"rank {r}: multi-crop dino, swav exact under DDP (a rank-major reference differs by {diffs['dino']:.2g}, {diffs['swav']:.2g}, as expected)", flush=True)
    shutdown_dist()   # barrier + settle + destroy: a bare destroy aborts ~1 run in 3 here

if __name__ == '__main__': main()
