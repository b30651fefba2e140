import os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def torchrun(script, nproc=2, timeout=300, args=()):
    "Run `script` under `torchrun --standalone` with gloo on CPU; return the CompletedProcess"
    exe = shutil.which('torchrun', path=os.path.dirname(sys.executable)) or shutil.which('torchrun')
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': ''}
    return subprocess.run([exe, '--standalone', f'--nproc_per_node={nproc}', str(script), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
