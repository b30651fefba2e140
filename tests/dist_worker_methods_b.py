"""Run under `torchrun --nproc_per_node=2`: DINO (center), SwAV (Sinkhorn) and Barlow Twins (cross-correlation, BN)
give the same values and the same DDP parameter gradients as one process on the concatenated batch.

The single-process reference is computed *before* `init_process_group`, so the same code runs without collectives."""
import sys
import torch, torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from centerssl.core import world_size, rank, shutdown_dist
from centerssl.models import mlp_backbone, convert_global_bn
from centerssl.methods.dino import DINO, DINOLoss
from centerssl.methods.swav import SwAV, sinkhorn_knopp
from centerssl.methods.barlow import BarlowTwins, cross_correlation, batch_standardize, BarlowTwinsLoss

N_PER_RANK, TOL = 6, 1e-6

def close(a, b, what, tol=TOL):
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    if a.shape != b.shape or not torch.allclose(a, b, atol=tol, rtol=0):
        sys.exit(f"rank {rank()}: {what} differs (max abs diff {(a - b).abs().max().item() if a.shape == b.shape else 'shape'}): {a.flatten()[:6]} vs {b.flatten()[:6]}")

def data(W):
    g = torch.Generator().manual_seed(0)
    X1, X2 = torch.randn(N_PER_RANK*W, 4, generator=g, dtype=torch.float64), torch.randn(N_PER_RANK*W, 4, generator=g, dtype=torch.float64)
    U = F.normalize(torch.randn(N_PER_RANK*W, 5, generator=g, dtype=torch.float64), dim=1) @ F.normalize(torch.randn(7, 5, generator=g, dtype=torch.float64), dim=1).T
    Z1, Z2 = torch.randn(N_PER_RANK*W, 5, generator=g, dtype=torch.float64) + 1, torch.randn(N_PER_RANK*W, 5, generator=g, dtype=torch.float64)
    return X1 + 1., X1 + 0.3*X2, U, Z1, Z2

def methods():
    "The three methods, small, in float64, with every BatchNorm global; same weights on every call"
    torch.manual_seed(1); dino = DINO(*mlp_backbone(4, 8, 8, bn=False), out_dim=6, hidden_dim=8, bottleneck_dim=4, momentum_teacher=0.9).double()
    torch.manual_seed(2); swav = convert_global_bn(SwAV(*mlp_backbone(4, 8, 8), hidden_dim=8, out_dim=5, n_prototypes=7, freeze_prototypes_steps=0)).double()
    torch.manual_seed(3); barlow = convert_global_bn(BarlowTwins(*mlp_backbone(4, 8, 8), hidden_dim=8, out_dim=5)).double()
    return dict(dino=dino, swav=swav, barlow=barlow)

def run(W, sl, ddp):
    "Values, and per method: losses, gradients and state after two SGD steps on the batch slice `sl`"
    X1, X2, U, Z1, Z2 = data(W)
    out = {}
    out['sinkhorn'] = sinkhorn_knopp(U[sl])
    out['sinkhorn0'] = sinkhorn_knopp(U[sl], n_iters=0)
    out['xcorr'] = cross_correlation(Z1[sl], Z2[sl])
    out['xcorr_rms'] = cross_correlation(Z1[sl], Z2[sl], bn=False)
    out['standardized'] = batch_standardize(Z1[sl])
    lf = DINOLoss(5).double(); lf.update_center(Z1[sl]); lf.update_center(Z2[sl]); out['dino_center_loss'] = lf.center.clone()
    for name, m in methods().items():
        model = DDP(m) if ddp else m
        opt = torch.optim.SGD(m.param_groups(), lr=0.1)
        for step in range(2):
            res = model((X1[sl], X2[sl]))
            opt.zero_grad(); res['loss'].backward()
            loss = res['loss'].detach().clone()
            if ddp and name != 'barlow': dist.all_reduce(loss); loss /= W          # per-rank means → global mean
            out[f'{name}_loss{step}'] = loss
            out[f'{name}_grads{step}'] = [p.grad.clone() for p in m.parameters() if p.grad is not None]
            for k in ('center_norm', 'center_norm_before_bn', 'center_norm_after_bn', 'logit_center_norm', 'prototype_center_norm'):
                if k in res: out[f'{name}_{k}{step}'] = res[k]
            opt.step(); m.on_step_end(step, 10)
        out[f'{name}_state'] = {k: v.clone() for k, v in m.state_dict().items()}
    return out

def main():
    W = 2                                                   # reference first: one process, no collectives
    ref = run(W, slice(None), ddp=False)
    dist.init_process_group('gloo')
    assert world_size() == W, f"run with --nproc_per_node={W}"
    r = rank()
    sl = slice(r*N_PER_RANK, (r + 1)*N_PER_RANK)
    out = run(W, sl, ddp=True)
    close(out['sinkhorn'], ref['sinkhorn'][sl], "sinkhorn_knopp codes")
    close(out['sinkhorn0'], ref['sinkhorn0'][sl], "sinkhorn_knopp without equipartition")
    close(out['xcorr'], ref['xcorr'], "cross_correlation (BN)")
    close(out['xcorr_rms'], ref['xcorr_rms'], "cross_correlation (RMS)")
    close(out['standardized'], ref['standardized'][sl], "batch_standardize")
    close(out['dino_center_loss'], ref['dino_center_loss'], "DINOLoss.update_center")
    for name in ('dino', 'swav', 'barlow'):
        for step in range(2):
            close(out[f'{name}_loss{step}'], ref[f'{name}_loss{step}'], f"{name} loss, step {step}")
            g, gr = out[f'{name}_grads{step}'], ref[f'{name}_grads{step}']
            if len(g) != len(gr): sys.exit(f"rank {r}: {name} has {len(g)} gradients under DDP, {len(gr)} in one process")
            for i, (a, b) in enumerate(zip(g, gr)): close(a, b, f"{name} DDP gradient {i}, step {step}")
            for k in ('center_norm', 'center_norm_before_bn', 'center_norm_after_bn', 'logit_center_norm', 'prototype_center_norm'):
                if f'{name}_{k}{step}' in ref: close(out[f'{name}_{k}{step}'], ref[f'{name}_{k}{step}'], f"{name} {k}, step {step}")
        for k, v in ref[f'{name}_state'].items():
            close(out[f'{name}_state'][k], v, f"{name} state '{k}' after two steps")
    print(f"rank {r}: dino, swav, barlow exact", flush=True)
    shutdown_dist()   # barrier + settle + destroy: a bare destroy aborts ~1 run in 3 here

if __name__ == '__main__': main()
