"""The build's mention scan finds exactly the guides the retriever's full scan finds."""

from __future__ import annotations

import random

from knowledge.index.mentions import MentionScan
from knowledge.retrieval.retriever import Retriever


class _Data:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = sorted(names.items(), key=lambda item: -len(item[0]))


def test_same_guides_as_the_full_scan_including_names_inside_longer_names() -> None:
    names = {"简易注销": "simple-cancel", "注销": "cancel", "企业注销": "company-cancel", "企业简易注销": "simple-cancel",
             "用水报装": "water", "报装": "water", "etc": "etc", "施工许可证": "permit", "许可证": "licence"}
    rng = random.Random(5)
    for number in range(2000):  # many synthetic names too, as at 5,000 guides
        names[f"{rng.choice('青石柳云松')}{rng.choice('河山湖溪')}镇事项{number}"] = f"g{number}"
    data = _Data(names)
    scan = MentionScan(data)
    questions = ["企业简易注销要多久", "注销公司和简易注销有什么区别", "ETC办理需要什么", "用水报装、报装费多少",
                 "青河镇事项12在哪办，柳山镇事项7呢", "施工许可证和许可证", "今天天气怎么样", "", "注销注销"]
    for question in questions:
        assert scan(data, question) == Retriever._mentioned(data, question), question


def test_another_index_falls_back_to_the_full_scan() -> None:
    indexed, other = _Data({"用水报装": "water"}), _Data({"用气报装": "gas"})
    assert MentionScan(indexed)(other, "用气报装要多久") == {"gas"}
