"""Run under `torchrun --nproc_per_node=2`: InfoNCE / SimCLR / SimSiam / BYOL under real DDP must match one process
on the concatenated batch (loss value, parameter gradients, diagnostics), with BatchNorm made global by
`convert_global_bn`. A negative control checks that plain per-rank BatchNorm does NOT match (so the test can fail)."""
import copy, sys
import torch, torch.nn as nn, torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from centerssl.core import world_size, rank, shutdown_dist
from centerssl.models import mlp_backbone, convert_global_bn, GlobalBatchNorm
from centerssl.losses import InfoNCELoss, SimCLR
from centerssl.methods.simsiam import SimSiam
from centerssl.methods.byol import BYOL

TOL = 1e-8  # float64 throughout; the brief's bound is 1e-5

def maxdiff(a, b):
    return (torch.as_tensor(a, dtype=torch.float64) - torch.as_tensor(b, dtype=torch.float64)).abs().max().item()

def close(a, b, what, tol=TOL):
    d = maxdiff(a, b)
    if not d <= tol: sys.exit(f"rank {rank()}: {what} differs by {d:.3g}")

def reference(make, batch, byol_step=False):
    "One process on the whole batch, computed BEFORE torch.distributed is initialised (so nothing syncs)"
    torch.manual_seed(1)
    ref = make().double()
    out = ref(tuple(batch)); out['loss'].backward()
    res = dict(loss=out['loss'].detach(), z=out['z'], center_norm=out['center_norm'],
               grads=[p.grad.clone() if p.grad is not None else None for p in ref.parameters()])
    if byol_step:
        torch.optim.SGD(ref.param_groups(), lr=0.1).step(); ref.on_step_end(0, 10)
        res['teacher'] = [t.detach().clone() for t in ref.teacher.state_dict().values()]
    return res

def ddp_step(make, batch_all, n):
    "One DDP step on this rank's slice of the batch, with the same initial weights as `reference`"
    torch.manual_seed(1)
    model = make().double()
    ddp = DDP(model)
    r = rank()
    out = ddp(tuple(x[r*n:(r+1)*n] for x in batch_all))   # forward(tuple) runs training_step under DDP's hooks
    out['loss'].backward()
    return model, out

def check_method(name, make, batch_all, n, ref, global_value):
    model, out = ddp_step(make, batch_all, n)
    r, W = rank(), world_size()
    mean_loss = out['loss'].detach().clone(); dist.all_reduce(mean_loss); mean_loss /= W
    close(mean_loss, ref['loss'], f"{name}: loss averaged over ranks")
    if global_value: close(out['loss'], ref['loss'], f"{name}: loss on each rank")
    for (k, p), g in zip(model.named_parameters(), ref['grads']):
        if p.requires_grad: close(p.grad, g, f"{name}: DDP gradient of {k}")
    close(out['center_norm'], ref['center_norm'], f"{name}: center_norm diagnostic", 1e-6)
    N = len(batch_all[0])
    close(out['z'][:n], ref['z'][r*n:(r+1)*n], f"{name}: z of view 1")
    close(out['z'][n:], ref['z'][N + r*n:N + (r+1)*n], f"{name}: z of view 2")
    return model

def main():
    W = int(__import__('os').environ['WORLD_SIZE']); n = 8
    torch.manual_seed(0)                                   # same data on every rank
    X1, X2 = torch.randn(n*W, 5, dtype=torch.float64), torch.randn(n*W, 5, dtype=torch.float64)
    bb = lambda: mlp_backbone(5, 16, 8)
    methods = {
        'simclr': (lambda: convert_global_bn(SimCLR(*bb(), proj_hidden_dim=16, proj_dim=4)), True),
        'simsiam': (lambda: convert_global_bn(SimSiam(*bb(), dim=8, pred_dim=4, proj_hidden_dim=16)), False),
        'simsiam no-sg no-pred': (lambda: convert_global_bn(SimSiam(*bb(), dim=8, pred_dim=4, proj_hidden_dim=16,
                                                                   use_predictor=False, stop_gradient=False)), False),
        'byol': (lambda: convert_global_bn(BYOL(*bb(), dim=8, proj_hidden_dim=16, pred_hidden_dim=16, base_momentum=0.9)), False),
    }
    plain_simsiam = lambda: SimSiam(*bb(), dim=8, pred_dim=4, proj_hidden_dim=16)
    # --- references: one process, before init_process_group
    refs = {k: reference(make, (X1, X2), byol_step=(k == 'byol')) for k, (make, _) in methods.items()}
    refs['plain'] = reference(plain_simsiam, (X1, X2))
    torch.manual_seed(1); lin = nn.Linear(5, 4).double(); lin_ref = copy.deepcopy(lin)
    ref_loss = InfoNCELoss(0.1)(lin_ref(X1), lin_ref(X2)); ref_loss.backward()
    full = InfoNCELoss(0.1, reduction='none')(lin_ref(X1), lin_ref(X2)).detach()

    dist.init_process_group('gloo')
    r = rank(); assert world_size() == W
    # the loss alone, on a linear model: value identical on every rank, DDP gradients exact
    ddp = DDP(lin)
    loss = InfoNCELoss(0.1)(ddp(X1[r*n:(r+1)*n]), ddp(X2[r*n:(r+1)*n])); loss.backward()
    close(loss, ref_loss, "InfoNCELoss value")
    for p, q in zip(lin.parameters(), lin_ref.parameters()): close(p.grad, q.grad, "InfoNCELoss DDP gradient")
    with torch.no_grad(): per_anchor = InfoNCELoss(0.1, reduction='none')(lin(X1[r*n:(r+1)*n]), lin(X2[r*n:(r+1)*n]))
    close(per_anchor, torch.cat([full[r*n:(r+1)*n], full[n*W + r*n:n*W + (r+1)*n]]), "InfoNCELoss per-anchor losses")

    for name, (make, global_value) in methods.items():
        model = check_method(name, make, (X1, X2), n, refs[name], global_value)
        assert any(isinstance(mod, GlobalBatchNorm) for mod in model.modules()), name
        if name == 'byol':                                 # the EMA step after identical updates stays identical
            torch.optim.SGD(model.param_groups(), lr=0.1).step(); model.on_step_end(0, 10)
            for a, b in zip(model.teacher.state_dict().values(), refs[name]['teacher']): close(a, b, "byol: EMA teacher after a step")

    # negative control: per-rank BatchNorm is not the same model as one process on the global batch
    model, out = ddp_step(plain_simsiam, (X1, X2), n)
    d = max(maxdiff(p.grad, g) for p, g in zip(model.parameters(), refs['plain']['grads']))
    if not d > 1e-4: sys.exit(f"rank {r}: plain per-rank BatchNorm unexpectedly matched the global batch (max diff {d:.3g})")
    print(f"rank {r}: methods exact under DDP (per-rank BN differs by {d:.2g}, as expected)", flush=True)
    shutdown_dist()   # barrier + settle + destroy: a bare destroy aborts ~1 run in 3 here

if __name__ == '__main__': main()
