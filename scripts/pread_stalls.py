#!/usr/bin/env python3
"""How often a 4 KiB pread from the OS page cache stalls on this machine.

Usage: scripts/pread_stalls.py [--samples N] FILE...

Reads every FILE once from start to end (so its pages are in the page cache and were just
touched), then times N random page-aligned 4 KiB preads over all of them and prints the
fraction above 50 / 100 / 200 us, the percentiles, and the load average before and after.
The proofs bench prints the `hashes` CF's files (`CREDX_BENCH_VARIANTS`); any large files
that fit in RAM will do. Python adds ~1 us per call, which does not matter at 100 us.
"""

import argparse
import mmap
import os
import random
import time


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def steal_ticks():
    """Clock ticks all CPUs spent stolen by the hypervisor (/proc/stat, 8th cpu field)."""
    with open("/proc/stat") as f:
        return int(f.readline().split()[8])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument(
        "--mmap",
        action="store_true",
        help="copy 4 KiB out of a read-only mapping of the files instead of pread",
    )
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    print(f"load before: {load()}")
    fds, sizes = [], []
    t = time.perf_counter()
    total = 0
    for path in args.files:
        fd = os.open(path, os.O_RDONLY)
        size = os.fstat(fd).st_size
        if size < 8192:
            os.close(fd)
            continue
        # Read whole once: every page is in the page cache and recently used.
        offset = 0
        while offset < size:
            chunk = os.pread(fd, 1 << 20, offset)
            if not chunk:
                break
            offset += len(chunk)
        total += size
        fds.append(fd)
        sizes.append(size)
    print(f"read {len(fds)} files, {total / 1e6:.0f} MB, once in {time.perf_counter() - t:.1f} s")

    maps = [mmap.mmap(fd, 0, prot=mmap.PROT_READ) for fd in fds] if args.mmap else []
    if maps:
        # Touch every page once so the page tables are populated, as after a warm-up pass.
        for m in maps:
            for off in range(0, len(m), 4096):
                m[off]
    rng = random.Random(1)
    pages = [s // 4096 - 1 for s in sizes]
    weights = [p for p in pages]
    picks = rng.choices(range(len(fds)), weights=weights, k=args.samples)
    samples = []
    clock = time.perf_counter_ns
    steal = steal_ticks()
    t_all = time.perf_counter()
    for i in picks:
        offset = rng.randrange(pages[i]) * 4096
        if maps:
            m = maps[i]
            t0 = clock()
            m[offset : offset + 4096]
            samples.append(clock() - t0)
        else:
            fd = fds[i]
            t0 = clock()
            os.pread(fd, 4096, offset)
            samples.append(clock() - t0)
    elapsed = time.perf_counter() - t_all
    ticks = os.sysconf("SC_CLK_TCK")
    print(
        f"{'mmap copies' if maps else 'preads'}: {elapsed:.1f} s; hypervisor steal during them: "
        f"{(steal_ticks() - steal) / ticks:.2f} CPU-s"
    )
    samples.sort()
    n = len(samples)

    def at(q):
        return samples[min(int(n * q), n - 1)] / 1000

    for limit in (50, 100, 200):
        over = sum(1 for s in samples if s > limit * 1000)
        print(f"> {limit} us: {over} of {n} ({100 * over / n:.2f} %)")
    print(
        f"p50 {at(0.5):.1f} us, p99 {at(0.99):.1f} us, p99.9 {at(0.999):.1f} us, "
        f"max {samples[-1] / 1000:.1f} us"
    )
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
