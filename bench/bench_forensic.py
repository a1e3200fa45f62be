"""Time the forensic enumeration of both abstract claims (n = 130): prints seconds taken."""

from __future__ import annotations

import time

from anrs119 import forensic


def main() -> None:
    # Import-time work (scipy, the claims registry) is excluded: warm up once.
    forensic.primary_check()
    start = time.perf_counter()
    primary = forensic.primary_check()
    primary_seconds = time.perf_counter() - start
    start = time.perf_counter()
    subgroup = forensic.lowvl_check()
    subgroup_seconds = time.perf_counter() - start
    start = time.perf_counter()
    whole = forensic.lowvl_check((forensic.n_randomized() - 1, forensic.n_randomized() - 1))
    whole_seconds = time.perf_counter() - start
    print(
        f"primary end point, every split of the trial: {len(primary.tables)} tables, "
        f"{primary_seconds:.3f} s"
    )
    print(
        f"low-VL subgroup, every subgroup size within the chosen arms: "
        f"{len(subgroup.tables)} tables, {subgroup_seconds:.3f} s"
    )
    print(
        f"low-VL subgroup, every pair of sizes 1..n-1 per arm: "
        f"{len(whole.tables)} tables, {whole_seconds:.3f} s"
    )


if __name__ == "__main__":
    main()
