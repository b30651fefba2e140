"""Run under `torchrun --nproc_per_node=2`: VICReg's loss (embeddings gathered with gradient, as the official
`FullGatherLayer`) and the `vicreg` method give the same values, the same DDP parameter gradients and the same weights
as one process on the concatenated batch.

The single-process reference is computed *before* `init_process_group`, so the same code runs without collectives."""
import sys
import torch, torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from centerssl.core import world_size, rank, shutdown_dist
from centerssl.models import mlp_backbone, convert_global_bn
from centerssl.methods.vicreg import VICReg, VICRegLoss

N_PER_RANK, TOL = 6, 1e-6
SETTINGS = {'official': {}, 'no_variance': dict(std_coeff=0.), 'uncentred': dict(center_std=False)}
DIAG = ('center_norm', 'center_fraction', 'std_mean', 'invariance', 'variance', 'covariance')

def close(a, b, what, tol=TOL):
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    if a.shape != b.shape or not torch.allclose(a, b, atol=tol, rtol=0):
        sys.exit(f"rank {rank()}: {what} differs (max abs diff {(a - b).abs().max().item() if a.shape == b.shape else 'shape'}): {a.flatten()[:6]} vs {b.flatten()[:6]}")

def data(W):
    g = torch.Generator().manual_seed(0)
    X1, X2 = torch.randn(N_PER_RANK*W, 4, generator=g, dtype=torch.float64), torch.randn(N_PER_RANK*W, 4, generator=g, dtype=torch.float64)
    Z1 = torch.randn(N_PER_RANK*W, 5, generator=g, dtype=torch.float64) * torch.linspace(0.3, 2., 5, dtype=torch.float64) + 1.
    return X1 + 1., X1 + 0.3*X2, Z1, Z1 + 0.4*torch.randn(N_PER_RANK*W, 5, generator=g, dtype=torch.float64)

def run(W, sl, ddp):
    "Loss terms and their gradients on the batch slice `sl`; per setting: losses, gradients, diagnostics and state after two SGD steps"
    X1, X2, Z1, Z2 = data(W)
    out = {}
    z1, z2 = Z1[sl].clone().requires_grad_(), Z2[sl].clone().requires_grad_()
    lf = VICRegLoss()
    out['terms'] = torch.stack(lf.terms(z1, z2)).detach()
    out['grad_z'] = torch.cat(torch.autograd.grad(lf(z1, z2), (z1, z2)))
    if ddp: out['grad_z'] = out['grad_z'] / W        # each rank holds W copies of the global loss; DDP's mean divides them out
    for name, kw in SETTINGS.items():
        torch.manual_seed(3)
        m = convert_global_bn(VICReg(*mlp_backbone(4, 8, 8), hidden_dim=8, out_dim=5, **kw)).double()
        model = DDP(m) if ddp else m
        opt = torch.optim.SGD(m.param_groups(), lr=0.05)
        for step in range(2):
            res = model((X1[sl], X2[sl]))
            opt.zero_grad(); res['loss'].backward()
            out[f'{name}_loss{step}'] = res['loss'].detach().clone()     # the global loss on every rank: no reduction needed
            out[f'{name}_grads{step}'] = [p.grad.clone() for p in m.parameters() if p.grad is not None]
            for k in DIAG: out[f'{name}_{k}{step}'] = res[k]
            opt.step()
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
    close(out['terms'], ref['terms'], "VICRegLoss terms")
    n = len(ref['grad_z']) // 2
    close(out['grad_z'], torch.cat([ref['grad_z'][:n][sl], ref['grad_z'][n:][sl]]), "VICRegLoss gradient w.r.t. this rank's rows")
    for name in SETTINGS:
        for step in range(2):
            close(out[f'{name}_loss{step}'], ref[f'{name}_loss{step}'], f"{name} loss, step {step}")
            g, gr = out[f'{name}_grads{step}'], ref[f'{name}_grads{step}']
            if len(g) != len(gr): sys.exit(f"rank {r}: {name} has {len(g)} gradients under DDP, {len(gr)} in one process")
            for i, (a, b) in enumerate(zip(g, gr)): close(a, b, f"{name} DDP gradient {i}, step {step}")
            for k in DIAG: close(out[f'{name}_{k}{step}'], ref[f'{name}_{k}{step}'], f"{name} {k}, step {step}")
        for k, v in ref[f'{name}_state'].items():
            close(out[f'{name}_state'][k], v, f"{name} state '{k}' after two steps")
    print(f"rank {r}: vicreg exact", flush=True)
    shutdown_dist()

if __name__ == '__main__': main()
