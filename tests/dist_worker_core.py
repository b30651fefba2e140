"""Run under `torchrun --nproc_per_node=2`: centerssl.core's collectives must match one process on the concatenated batch."""
import copy, sys
import torch, torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from centerssl.core import (all_gather_grad, all_reduce_grad, shutdown_dist, center_vector, collapse_stats, CenterTracker,
                            world_size, rank)

def close(a, b, what, tol=1e-6):
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    if not torch.allclose(a, b, atol=tol, rtol=0): sys.exit(f"rank {rank()}: {what} differs: {a} vs {b}")

def ddp_grads(loss_fn, X, model):
    "Parameter gradients of `loss_fn` under DDP (this rank's slice of X) and in one process (all of X)"
    ref = copy.deepcopy(model)
    ddp = DDP(model)
    n = len(X) // world_size()
    loss = loss_fn(ddp(X[rank()*n:(rank()+1)*n]), True)
    loss.backward()
    ref_loss = loss_fn(ref(X), False)
    ref_loss.backward()
    return loss, ref_loss, [p.grad for p in model.parameters()], [p.grad for p in ref.parameters()]

def main():
    dist.init_process_group('gloo')
    torch.manual_seed(0)                      # same data and weights on every rank
    W, r = world_size(), rank()
    X = torch.randn(8*W, 5, dtype=torch.float64)
    n = len(X) // W
    # values
    z_all = torch.randn(8*W, 4, dtype=torch.float64) + 1.
    z = z_all[r*n:(r+1)*n]
    close(all_gather_grad(z), z_all, "all_gather_grad value")
    close(all_reduce_grad(z.sum(0)), z_all.sum(0), "all_reduce_grad value")
    close(center_vector(z), F.normalize(z_all, dim=1).mean(0), "center_vector value")
    st, st_ref = collapse_stats(z), collapse_stats(z_all, sync=False)
    for k in st: close(st[k], st_ref[k], f"collapse_stats[{k}]", 1e-5)
    for mode in ['batch', 'ema', 'mean']:
        t, t_ref = CenterTracker(mode, 0.7), CenterTracker(mode, 0.7, sync=False)
        for step in range(3):
            zs = torch.randn(6*W, 4, dtype=torch.float64) + step
            t.update(zs[r*6:(r+1)*6]); t_ref.update(zs)
        close(t.value, t_ref.value, f"CenterTracker({mode!r})", 1e-5)
    # gradients through DDP: every loss depends on the whole batch
    losses = {
        'center_vector': lambda z, d: center_vector(z, sync=d).norm()**2,
        'all_gather': lambda z, d: torch.logsumexp((all_gather_grad(z) if d else z) @ (all_gather_grad(z) if d else z).T, 1).mean(),
        'all_reduce': lambda z, d: ((all_reduce_grad(z.sum(0)) if d else z.sum(0))**2).sum() / len(X)**2,
    }
    for name, fn in losses.items():
        torch.manual_seed(1)
        model = torch.nn.Linear(5, 4).double()
        loss, ref_loss, g, g_ref = ddp_grads(fn, X, model)
        close(loss, ref_loss, f"{name} loss")
        for a, b in zip(g, g_ref): close(a, b, f"{name} DDP gradient")
    print(f"rank {r}: all collectives exact", flush=True)
    shutdown_dist()   # barrier + settle + destroy: a bare destroy aborts ~1 run in 3 here

if __name__ == '__main__': main()
