"Shared by the benchmarks: a note on CPU contention, at the start and at the end of a run"
import os, time
import torch

_T0 = (time.perf_counter(), time.process_time())

def load_note(when):
    "Warn when other processes compete for the CPUs (the timings then mostly measure the contention)"
    if when == 'at the start':
        l1 = os.getloadavg()[0]
        if l1 > 1.0: print(f"note: load average {l1:.1f} at the start: other processes are using the CPUs, timings are unreliable", flush=True)
    else:
        wall, cpu = time.perf_counter() - _T0[0], time.process_time() - _T0[1]
        print(f"(this process used {cpu / wall:.2f} CPU cores on average with {torch.get_num_threads()} torch threads; "
              f"much less than the threads can mean other processes starved it)")
