"""Host syncs per training step, counted on the CPU (issue 18): a step that writes no metrics line reads nothing from the
device, and a step that writes one reads it in one transfer.

On a GPU every read of a device value on the host waits for the queue of kernels to drain. The reads are visible on
any device as dispatcher ops (`_local_scalar_dense` from `.item()`/`float()`/`bool()`, `is_nonzero`, `nonzero`, ...),
as `Tensor.tolist()`/`.numpy()` calls, and uploads of host data as `lift_fresh` (`torch.tensor(...)`); the counts are
deterministic, so they are tests. Both layouts are covered: the CPU default and the GPU's (bf16 autocast, channels_last).
"""
import contextlib, tempfile
import pytest, torch
from centerssl.train import Trainer, import_methods, small_hparams, make_backbone, HostReads
from centerssl.imagedata import load_dataset

DATA = load_dataset('digits')
METHODS = sorted(import_methods())

def trainer(name, out, gpu_layout):
    torch.manual_seed(0)
    bb, d = make_backbone('convnet', 1, 16)
    m = import_methods()[name](bb, d, **small_hparams(name))
    out.mkdir(parents=True, exist_ok=True)
    t = Trainer(m, DATA, out, epochs=5, batch_size=32, lr=0.05, log_every=10, monitor_every=10, probe_every=50, knn_every=-1,
                amp=gpu_layout, channels_last=gpu_layout, progress=False, verbose=False).setup()
    t._cb('before_fit')
    t.loader.set_epoch(0)
    x, y = next(iter(t.loader))
    return t, x, y

def one_step(t, x, y, at, line):
    t.step = at
    t.train_step(x, y); t.step += 1; t._cb('after_step')
    if line: t._write_metrics()

@pytest.mark.parametrize('gpu_layout', [False, True], ids=['cpu-layout', 'bf16-channels_last'])
@pytest.mark.parametrize('name', METHODS)
def test_no_host_sync_in_a_plain_step_one_per_metrics_line(name, gpu_layout, tmp_path):
    t, x, y = trainer(name, tmp_path/'run', gpu_layout)
    plain = next(k for k in range(1, 100) if not t._line_due(k + 1))
    line = 49                                                   # step 50: a metrics line, CenterMonitor and GradProbe all fire
    assert t._line_due(line + 1) and all(c.logs_at(line + 1) for c in t.callbacks if c.name in ('CenterMonitor', 'GradProbe'))
    one_step(t, x, y, plain, False); one_step(t, x, y, line, True)   # warm: lazily made state and constants
    with HostReads() as s: one_step(t, x, y, plain, False)
    assert s.reads == [], f"{name}: a plain step read the device {len(s.reads)} time(s): {s.reads}"
    with HostReads() as s: one_step(t, x, y, line, True)
    assert len(s.reads) <= 1, f"{name}: a step with a metrics line read the device {len(s.reads)} times: {s.reads}"
    rec = t.history[-1]
    assert rec['step'] == line + 1 and {'loss', 'z_center_norm', 'grad_center_share', 'center_norm'} <= rec.keys(), rec
    assert all(isinstance(v, (int, float)) for v in rec.values()), rec


def test_a_nan_input_is_caught_on_the_device_and_skips_the_step(tmp_path):
    "With the input checks off inside the step, a NaN image batch still stops the run, naming the step, weights untouched"
    from centerssl.train import NonFiniteLoss
    t, x, y = trainer('simclr', tmp_path/'run', False)
    for k in range(2): one_step(t, x, y, k, False)               # steps 1 and 2: finite
    w = {n: p.detach().clone() for n, p in t.method.named_parameters()}
    good_aug, t.aug = t.aug, lambda v: (torch.full((len(v), 1, 16, 16), float('nan')),) * 2
    one_step(t, x, y, 2, False)                                  # step 3: NaN images
    t.aug = good_aug
    one_step(t, x, y, 3, False)                                  # step 4: finite again, but no step is taken after a bad one
    assert all(torch.equal(p, w[n]) for n, p in t.method.named_parameters())
    with pytest.raises(NonFiniteLoss, match='at step 3'): t._fetch({})


@pytest.mark.parametrize('preset', ['byol', 'simclr', 'fashion'])
def test_the_two_view_augmentation_reads_nothing_from_the_device(preset):
    "Colour images through every preset's augmentation (crops, jitter with hue, grayscale, blur, solarize): no host read or upload"
    from centerssl.imagedata import two_views
    aug = two_views(preset, 32, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    x = torch.randint(0, 256, (16, 3, 40, 40), dtype=torch.uint8)
    aug(x)
    with HostReads() as s: v1, v2 = aug(x)
    assert s.reads == [] and v1.shape == v2.shape == (16, 3, 32, 32), s.reads


def test_the_multicrop_augmentation_reads_nothing_from_the_device():
    "Two global views and 3 local crops of 64-px colour images (blurred local crops too): no host read or upload"
    from centerssl.imagedata import multi_crop
    aug = multi_crop('byol', 64, 3, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    x = torch.randint(0, 256, (8, 3, 72, 72), dtype=torch.uint8)
    aug(x)
    with HostReads() as s: v1, v2, vl = aug(x)
    assert s.reads == [] and v1.shape == (8, 3, 64, 64) and vl.shape == (24, 3, 27, 27) and aug.local.blur_p == 0.5, s.reads


@pytest.mark.parametrize('name', ['dino', 'swav'])
def test_a_multicrop_step_of_dino_and_swav_reads_nothing_from_the_device(name):
    "A training step on (x1, x2, y, xl) — backbone once per crop size, loss over the official pairs, backward — without diagnostics reads nothing"
    from centerssl.core import no_host_checks
    from centerssl.imagedata import multi_crop
    torch.manual_seed(0)
    bb, d = make_backbone('convnet', 1, 16)
    m = import_methods()[name](bb, d, **small_hparams(name))
    x1, x2, xl = multi_crop('digits', 16, 2)(DATA.train.x[:32])
    def step():
        m.zero_grad(set_to_none=True)
        with no_host_checks(): out = m((x1, x2, None, xl))
        out['loss'].backward(); m.on_step_end(0, 10)
        return out
    m.diagnostics = False
    step()                                                      # warm: lazily made state
    with HostReads() as s: out = step()
    assert s.reads == [], f"{name}: a multi-crop step read the device {len(s.reads)} time(s): {s.reads}"
    assert out['z'].shape[0] == 64 and xl.shape[0] == 64
