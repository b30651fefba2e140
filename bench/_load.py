"Shared by the benchmarks: a note on CPU contention, at the start and at the end of a run"
import os, time
import torch

def _steal():
    "Jiffies the hypervisor gave to other guests (the `steal` column of /proc/stat), or None"
    try: return int(open('/proc/stat').readline().split()[8])
    except (OSError, IndexError, ValueError): return None

_T0 = (time.perf_counter(), time.process_time(), _steal())

def load_note(when):
    "Warn when other processes compete for the CPUs (the timings then mostly measure the contention)"
    if when == 'at the start':
        l1 = os.getloadavg()[0]
        if l1 > 1.0: print(f"note: load average {l1:.1f} at the start: other processes are using the CPUs, timings are unreliable", flush=True)
    else:
        wall, cpu = time.perf_counter() - _T0[0], time.process_time() - _T0[1]
        print(f"(this process used {cpu / wall:.2f} CPU cores on average with {torch.get_num_threads()} torch threads; "
              f"much less than the threads can mean other processes starved it)")
        st = _steal()
        if st is not None and _T0[2] is not None:
            share = (st - _T0[2]) / (os.sysconf('SC_CLK_TCK') * wall * (os.cpu_count() or 1))
            print(f"(steal time: {100 * share:.1f}% of the CPUs' time went to other virtual machines during the run)")
