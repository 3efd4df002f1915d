"""The chaos table (pure)."""

from chaos.run import Result


def table(results: list[Result], memory: dict[str, tuple[float, ...]], header: str) -> str:
    """``memory``: component -> (PSS, RSS) at the start and (PSS, RSS) at the end, MiB."""
    lines = [
        header,
        "",
        "| fault | requests | errors by kind | slowest | errors until | converged in "
        "| invariants |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for r in results:
        errors = ", ".join(f"{k} {n}" for k, n in r.errors.items()) or "none"
        converged = "never" if r.converged_s is None else f"{r.converged_s:.1f} s"
        if r.waited_on:
            converged += f" ({', '.join(r.waited_on)})"
        failed = [f"{name}: {'; '.join(v[:3])}" for name, v in r.violations.items() if v]
        verdict = "all hold" if r.ok else "FAILED " + " / ".join(failed or ["did not converge"])
        lines.append(
            f"| {r.fault} | {r.requests} | {errors} | {r.slowest_s:.2f} s "
            f"| {r.errors_until_s:.1f} s | {converged} "
            f"| {verdict} |"
        )
    lines += [
        "",
        "| component | RSS at start | RSS at end | PSS at start | PSS at end |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {n} | {rss0:.0f} MiB | {rss1:.0f} MiB | {pss0:.0f} MiB | {pss1:.0f} MiB |"
        for n, (pss0, rss0, pss1, rss1) in memory.items()
    ]
    checks = sorted({name for r in results for name in r.violations})
    lines += [
        "",
        "Errors until: seconds after recovery began (restart or SIGCONT) until the last failed"
        " request. Converged in: seconds after the load stopped until the invariants held.",
    ]
    lines += ["", "Invariants checked after each fault: " + ", ".join(checks) + "."]
    passed = sum(r.ok for r in results)
    lines.append(f"{passed}/{len(results)} faults: every invariant held.")
    return "\n".join(lines) + "\n"
