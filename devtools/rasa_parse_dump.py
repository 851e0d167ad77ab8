"""Save the model's parses of the search-by-paraphrase requests, without a server.

Runs in .venv-rasa (Python 3.10, Rasa), loads the model in process:

    PYTHONPATH=. .venv-rasa/bin/python devtools/rasa_parse_dump.py MODEL SET OUT.json

then ``.venv/bin/python -m devtools.search_eval --parses OUT.json`` replays the dialogue
with the actions in process. For a machine too loaded to start Rasa and the action server
within their timeouts; ``make eval`` uses the servers.
"""

import asyncio
import json
import sys

import yaml
from rasa.core.agent import Agent

SKIP_ANSWER = "non importa"


async def _parse_all(agent: Agent, texts: list[str]) -> dict:
    out = {}
    for text in texts:
        parsed = await agent.parse_message(text)
        out[text] = {
            "intent": {"name": parsed["intent"]["name"]},
            "entities": [
                {"entity": e["entity"], "value": e["value"]} for e in parsed.get("entities", [])
            ],
        }
    return out


def main(model: str, data: str, out: str) -> None:
    with open(data, encoding="utf-8") as handle:
        texts = [r["text"] for r in yaml.safe_load(handle)["requests"]]
    parses = asyncio.run(_parse_all(Agent.load(model), [*texts, SKIP_ANSWER]))
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(parses, handle, ensure_ascii=False, indent=1)
    print(f"{len(parses)} parses in {out}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
