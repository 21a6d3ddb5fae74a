"""Client for rsground-lab's reward service (`npm run serve`), for Python GRPO trainers.

TRL: pass `rsground_reward` to GRPOTrainer. Its dataset needs a `solution` column (the box
[x1, y1, x2, y2] in the pixels of the image the model sees) and, for R_pos, an `image_size`
column ([width, height]):

    from trl import GRPOConfig, GRPOTrainer
    from rsground_reward import rsground_reward
    trainer = GRPOTrainer(model="Qwen/Qwen2.5-VL-3B-Instruct", reward_funcs=rsground_reward,
                          args=GRPOConfig(num_generations=8), train_dataset=dataset)

OpenRLHF needs no client: start the service, then train with
    --remote_rm_url http://127.0.0.1:8000/get_reward --label_key solution
(each label a box or a JSON string {"box": [...], "image_size": [w, h]}).

A trainer that applies the spatial-consistency weight w (L_SC) posts each query's rollouts to
/v1/groups and scales that group's loss by the returned w (see `group_weights`).
"""
import os

import requests

URL = os.environ.get("RSG_REWARD_URL", "http://127.0.0.1:8000")
_session = requests.Session()


def _text(completion):
    # TRL passes plain strings, or chat messages for conversational datasets.
    return completion if isinstance(completion, str) else completion[-1]["content"]


def _label(box, size):
    return {"box": list(box), "image_size": list(size)} if size is not None else list(box)


def rsground_reward(prompts, completions, solution, image_size=None, **kwargs):
    """A TRL reward function: R = R_format + R_IoU + beta * R_pos for each completion."""
    sizes = image_size if image_size is not None else [None] * len(completions)
    body = {
        "query": [_text(c) for c in completions],
        "labels": [_label(b, s) for b, s in zip(solution, sizes)],
    }
    r = _session.post(f"{URL}/get_reward", json=body, timeout=600)
    r.raise_for_status()
    return r.json()["rewards"]


def group_weights(groups):
    """groups: [(completions, box, image_size)] -> [(advantages, w)], one pair per group."""
    body = {"groups": [{"completions": [_text(c) for c in cs], "label": _label(b, s)} for cs, b, s in groups]}
    r = _session.post(f"{URL}/v1/groups", json=body, timeout=600)
    r.raise_for_status()
    return [(g["advantages"], g["w"]) for g in r.json()["groups"]]
