#!/usr/bin/env python3
"""The cost of `check --changed-since` against a plain check: medians of wall and CPU time
over N interleaved rounds. Usage: bench/changed_since.py FLUXVET REPO N (REPO a git repository
with at least two commits, e.g. `git clone ../shared/corpus/fluxcd__flux2-hub-spoke-example.bundle`)."""
import subprocess, time, resource, statistics, sys, os
bin_, repo, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
cmds = {
  'check': [bin_, 'check', '--no-timing', '--format', 'short'],
  'check --rev HEAD': [bin_, 'check', '--rev', 'HEAD', '--format', 'short'],
  'check --changed-since HEAD~1': [bin_, 'check', '--changed-since', 'HEAD~1', '--format', 'short'],
  'check --rev HEAD --changed-since HEAD~1': [bin_, 'check', '--rev', 'HEAD', '--changed-since', 'HEAD~1', '--format', 'short'],
}
res = {k: ([], []) for k in cmds}
for i in range(n):
    for k, c in cmds.items():
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(c, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t1 = time.perf_counter()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        res[k][0].append((t1 - t0) * 1000)
        res[k][1].append((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1000)
print(f"{repo} n={n} load={os.getloadavg()[0]:.1f}")
for k, (w, c) in res.items():
    print(f"  {k:45s} wall median {statistics.median(w):7.1f} ms   cpu median {statistics.median(c):7.1f} ms")
