"""`python -m ttct_dev.faults.replay_all <service>`: what an operator does with `python -m ttct.admin <service>
replay <id>` for each parked stream, in one process (each CLI call builds the service's app again, about 5 s on
a small machine, and a rolling upgrade parks one stream per score). The same functions as the CLI: the service's
runtime from its environment, its dead letters, and for each parked stream's first one `replay` (which applies the
held successors with it, in order). Prints one JSON line per replay."""
from __future__ import annotations

import asyncio
import json
import sys

from ttct.admin.commands import dead_letters, replay, runtime_of


async def replay_all(service: str) -> int:
    runtime = runtime_of(service)
    done = 0
    for _ in range(20):  # a replay that fails again parks its stream at the failing successor: go round again
        letters = await dead_letters(runtime)
        if not letters:
            break
        heads: dict[tuple[str, str], dict] = {}
        for letter in letters:
            key = (letter["consumer"], letter["stream_id"])
            if key not in heads or letter["stream_version"] < heads[key]["stream_version"]:
                heads[key] = letter
        for letter in sorted(heads.values(), key=lambda letter: letter["id"]):
            said = await replay(runtime, letter["id"])
            print(json.dumps({"id": letter["id"], "stream_id": letter["stream_id"],
                              "stream_version": letter["stream_version"], "replay": said}, ensure_ascii=False))
            done += 1
    return done


if __name__ == "__main__":
    asyncio.run(replay_all(sys.argv[1]))
