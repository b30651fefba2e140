"""Run under `torchrun --nproc_per_node=2`: MoCo v3 under real DDP must match one process on the concatenated batch —
the loss alone (value on every rank, DDP gradients, keys gathered without gradient, labels offset by the rank) and the
method with `convert_global_bn` (loss, parameter gradients, diagnostics, z, the momentum encoder after a step).
A negative control: the same loss with labels that lack the rank offset does NOT match (so the test can fail)."""
import copy, sys
import torch, torch.nn as nn, torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from centerssl.core import world_size, rank, shutdown_dist, all_gather_grad, all_reduce_grad
from centerssl.models import mlp_backbone, convert_global_bn, GlobalBatchNorm
from centerssl.methods.mocov3 import MoCoV3Loss, MoCoV3

TOL = 1e-8  # float64 throughout

def maxdiff(a, b):
    return (torch.as_tensor(a, dtype=torch.float64) - torch.as_tensor(b, dtype=torch.float64)).abs().max().item()

def close(a, b, what, tol=TOL):
    d = maxdiff(a, b)
    if not d <= tol: sys.exit(f"rank {rank()}: {what} differs by {d:.3g}")

class NoRankOffset(MoCoV3Loss):
    "A broken loss: every rank takes its positives from rank 0's keys (labels without `N * rank`)"
    def ctr(self, q, k):
        k = all_gather_grad(k.detach())
        return all_reduce_grad(self.ctr_sum(q, k, 0)) / len(k)

def loss_on_linear(loss, lin, key, X1, X2, sl=slice(None)):
    "The loss of queries `lin(x)` against keys `key(x)` (a frozen encoder: no gradient), on the rows `sl` of the batch"
    x1, x2 = X1[sl], X2[sl]
    with torch.no_grad(): k1, k2 = key(x1), key(x2)
    return loss(lin(x1), lin(x2), k1, k2)

def make_method():
    return convert_global_bn(MoCoV3(*mlp_backbone(5, 16, 8), dim=8, proj_hidden_dim=16, pred_hidden_dim=16,
                                    temperature=0.5, base_momentum=0.9))

def main():
    W = int(__import__('os').environ['WORLD_SIZE']); n = 8
    torch.manual_seed(0)                                   # same data on every rank
    X1, X2 = torch.randn(n*W, 5, dtype=torch.float64), torch.randn(n*W, 5, dtype=torch.float64)
    # --- references: one process on the whole batch, before init_process_group
    torch.manual_seed(1); lin = nn.Linear(5, 4).double(); key = nn.Linear(5, 4).double().requires_grad_(False)
    lin_ref = copy.deepcopy(lin)
    ref_loss = loss_on_linear(MoCoV3Loss(0.5), lin_ref, key, X1, X2); ref_loss.backward()
    torch.manual_seed(1); ref = make_method().double()
    out = ref((X1, X2)); out['loss'].backward()
    ref_res = dict(loss=out['loss'].detach(), z=out['z'], center_norm=out['center_norm'], key_center_norm=out['key_center_norm'],
                   grads=[p.grad.clone() if p.grad is not None else None for p in ref.parameters()])
    torch.optim.SGD(ref.param_groups(), lr=0.1).step(); ref.on_step_end(0, 10)
    ref_res['teacher'] = [t.detach().clone() for t in ref.teacher.state_dict().values()]

    dist.init_process_group('gloo')
    r = rank(); assert world_size() == W
    sl = slice(r*n, (r+1)*n)
    # the loss alone: value identical on every rank, DDP gradients exact
    ddp = DDP(lin)
    loss = loss_on_linear(MoCoV3Loss(0.5), ddp, key, X1, X2, sl); loss.backward()
    close(loss, ref_loss, "MoCoV3Loss value on each rank")
    for p, q in zip(lin.parameters(), lin_ref.parameters()): close(p.grad, q.grad, "MoCoV3Loss DDP gradient")
    # negative control: labels without the rank offset
    torch.manual_seed(1); lin_bad = nn.Linear(5, 4).double(); ddp_bad = DDP(lin_bad)
    loss_on_linear(NoRankOffset(0.5), ddp_bad, key, X1, X2, sl).backward()
    d = max(maxdiff(p.grad, q.grad) for p, q in zip(lin_bad.parameters(), lin_ref.parameters()))
    if not d > 1e-3: sys.exit(f"rank {r}: the loss without the rank offset unexpectedly matched (max diff {d:.3g})")

    # the method, with global BatchNorm
    torch.manual_seed(1); model = make_method().double()
    assert any(isinstance(mod, GlobalBatchNorm) for mod in model.modules())
    ddp_model = DDP(model)                                 # keep it: its hooks all-reduce the gradients in backward
    out = ddp_model((X1[sl], X2[sl])); out['loss'].backward()
    close(out['loss'], ref_res['loss'], "MoCoV3: loss on each rank")
    for (k, p), g in zip(model.named_parameters(), ref_res['grads']):
        if p.requires_grad: close(p.grad, g, f"MoCoV3: DDP gradient of {k}")
    for k in ('center_norm', 'key_center_norm'): close(out[k], ref_res[k], f"MoCoV3: {k} diagnostic", 1e-6)
    N = len(X1)
    close(out['z'][:n], ref_res['z'][r*n:(r+1)*n], "MoCoV3: z of view 1")
    close(out['z'][n:], ref_res['z'][N + r*n:N + (r+1)*n], "MoCoV3: z of view 2")
    torch.optim.SGD(model.param_groups(), lr=0.1).step(); model.on_step_end(0, 10)
    for a, b in zip(model.teacher.state_dict().values(), ref_res['teacher']): close(a, b, "MoCoV3: momentum encoder after a step")
    print(f"rank {r}: mocov3 exact under DDP (without the rank offset: off by {d:.2g}, as expected)", flush=True)
    shutdown_dist()

if __name__ == '__main__': main()
