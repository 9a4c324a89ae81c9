"""Training examples that name an item of a set of guides, by its own words or by other words.

    python -m bot.launcher.nlu_leaks tests/data/dev*/guides     # which NLU examples name a dev item?

The NLU test on unseen items (`nlu_eval --heldout`) only means something when data/nlu.yml never
names those items. A literal check of titles and aliases misses an item named by one of its words:
"电子秤要拿去哪检" names the guide "计量器具强制检定" (alias "电子秤强检") without holding either name.
So each guide is reduced to its item words: the 2-4 character words of its title and aliases (jieba,
plus runs of characters jieba leaves single) minus procedure vocabulary (登记, 许可证, 申领…), who
asks and what kind of money (孩子, 退休, 补贴…), the guide's own region names, words common in Chinese
at large (jieba's dictionary frequency), the sample guides' own item names and words that many of
the sample guides use (those say what kind of procedure, not which item), and the words of how people
talk to the bot (转人工, 投诉…: conversation intents only, never off-topic examples, whose nouns 签证 快递 are
items). A training example that holds one of those words, or a 2-character one at the start of an office, paper,
person or fee word (公证处, 收养人), names the item; so does one holding a whole name of 4+ characters, or its core
without the procedure words around it ("食品生产" of 食品生产许可证核发: 食品 and 生产 alone are everyday words; "检验检测机构资质认定"
is all procedure words). A failing held-out check prints only our own flagged examples.
Developed on the dev sets' titles (tests/data/dev*/guides) against data/nlu.yml: of the examples it
flags there (152 examples), about nine in ten name the item or a near one ("城市道路挖掘许可", "医保报销").
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba
import jieba.posseg
import yaml

from knowledge.settings import ROOT
from knowledge.sources.guides import names_of, parse_guide

SAMPLE_GUIDES = ROOT / "knowledge" / "guides"
NLU_FILE = ROOT / "data" / "nlu.yml"

# What kind of procedure, whom and where, never which item: a title is made of these around its item words.
PROCEDURE_WORDS = frozenset("""
登记 许可 许可证 申请 申请书 申请表 办理 备案 核发 核准 审批 审核 审查 审定 批准 报批 申领 领取 申报 申办 办证 证照
证书 证件 证明 手续 认定 设立 成立 开办 新办 变更 注销 延续 续期 换证 换领 补领 补办 补发 签注 注册 查询 转递 转移
服务 业务 事项 使用 经营 管理 活动 单位 企业 公司 个人 人员 机构 场所 项目 资格 资质 年检 检验 检测 验收 竣工
上牌 挂牌 牌照 开户 过户 受理 到期 期满 遗失 损坏 丢失 换补 转出 转入 接收 续签 困难 保障 待遇 等级 阶段 处置
排放 安置 维修 不可 移动 提升 发行 流通 批发 零售 就读 引进 先行 支出 突发 小额 强制 自愿 经营者 申请人 法人
装置 器具 设施 设备 物品 产品 用品 图纸 合同 照片 办事 政务 窗口 政府 部门 公共 社会 基本 一般 普通 相关 专项 临时 电子 网上 线上
中国公民 公民 居民 群众 家庭 本地 外地 异地 境内 境外 国内 城市 城镇 农村 乡村 社区 地区 县级 市级 省级
发放 领用 取得 办法 规定 标准 条件 材料 流程 时限 地点 电话 办理点 要求 情况 范围 类型 类别 方式
""".split())
# Who asks and what kind of money, never which item: "孩子刚上初中" "退休的老同事" "外地户口" "有啥补贴".
PERSON_WORDS = frozenset("""
孩子 小孩 子女 父母 老人 老年人 家人 亲属 本人 夫妻 配偶 学生 大学生 毕业生 小学 初中 高中 大学 本科 硕士 学历 退休 在职
户口 户籍 本地人 外地人 补贴 补助 津贴 奖励 资金 费用 政策 优惠 减免 退费
""".split())
# A word this common in everyday Chinese (jieba's dictionary count) says nothing about one item: 学生, 孩子, 企业, 设计.
COMMON_FREQUENCY = 10_000
# A word that this share of the sample guides use is procedure or administration vocabulary of this KB, not an item's.
COMMON_SHARE = 0.10
SUFFIXES = "省市区县镇乡街道村"
# Not a word of an item: a negation ("不带…"), a grade ("三级"), or a run of single characters that holds a function
# word ("查我的" of 查/我/的).
NOT_ITEM = re.compile(r"^[不没未非]|^[一二三四五六七八九十两甲乙丙丁]+[级类等星档]$|[的了我你他她它在是和与及或把被给个吗呢啊]")


@dataclass(frozen=True)
class Leak:
    example: str
    guide: str
    word: str


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    # A private tokenizer: the Rasa side adds guide names to jieba's global dictionary, and whole titles as
    # one token would hide the words inside them.
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def _region_words(region: str) -> set[str]:
    """"云岭市望江区" -> 云岭, 望江 (and the whole parts): names of places, not of items."""
    # Parts of one character ("中" of 市中区) are no place name of their own: dropping words that hold them would drop items.
    parts = [part for part in re.split(f"[{SUFFIXES}]", region) if len(part) >= 2]
    return {*parts, *re.findall(f"[^{SUFFIXES}]+[{SUFFIXES}]", region)}


def candidate_words(name: str) -> set[str]:
    """2-4 character words of a name: jieba's words, and runs of characters jieba left single ("强检" of 强/检).
    (jieba's search mode was tried: its sub-words "动车" of 机动车 or "市道" of 城市道路 flag unrelated examples.)"""
    tokenizer = _tokenizer()
    words: set[str] = set()
    for chunk in re.findall(r"[\u4e00-\u9fff]+|[A-Za-z]+", name):
        tokens = list(tokenizer.cut(chunk))
        words.update(token.lower() for token in tokens if 2 <= len(token) <= 4)
        run = ""
        for token in [*tokens, ""]:
            if len(token) == 1:
                run += token
                continue
            if 2 <= len(run) <= 4:
                words.add(run.lower())
            run = ""
    return words


@dataclass(frozen=True)
class Background:
    """What the sample KB says anyway (its guides' texts and item names), and how people talk to the bot."""
    texts: tuple[str, ...]
    names: tuple[str, ...]
    talk: frozenset[str] = frozenset()


# How people talk to the bot is not an item: a word that several examples of the conversation intents use (转人工,
# 投诉, 问候… "人工") is conversation, whatever a guide's alias shares it. Only these intents count: off-topic and chitchat
# examples hold real item nouns ("签证" "快递" "外卖"), and a held-out item's noun there would teach "this is off-topic".
CONVERSATION_INTENTS = frozenset({"greet", "goodbye", "thank", "bot_challenge", "complain", "request_human", "affirm",
                                  "deny", "feedback_good", "feedback_bad", "choose"})
TALK_EXAMPLES = 3
# Verbs people ask the assistant for anything with ("推荐部电影", "推荐个旅游景点"): a way of asking, as much talk as
# 转人工, even where a guide's title uses the verb; off-topic examples need them to teach what is not a procedure.
ASKING_WORDS = frozenset({"推荐"})


def conversation_words(nlu_file: Path = NLU_FILE) -> frozenset[str]:
    tokenizer = _tokenizer()
    counts: dict[str, int] = {}
    for block in yaml.safe_load(nlu_file.read_text(encoding="utf-8"))["nlu"]:
        if str(block.get("intent") or "") not in CONVERSATION_INTENTS:
            continue
        for line in str(block.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                for word in set(tokenizer.lcut(line.strip()[2:])):
                    counts[word] = counts.get(word, 0) + 1
    return frozenset(word for word, count in counts.items() if count >= TALK_EXAMPLES and len(word) >= 2) | ASKING_WORDS


@lru_cache(maxsize=4)
def background(folder: Path = SAMPLE_GUIDES, nlu_file: Path = NLU_FILE) -> Background:
    paths = sorted(folder.glob("*.md"))
    names = {name for path in paths for name in guide_names(path)}
    return Background(tuple(path.read_text(encoding="utf-8") for path in paths), tuple(sorted(names)),
                      conversation_words(nlu_file))


def is_item_word(word: str, known: Background) -> bool:
    if NOT_ITEM.search(word) or word in PROCEDURE_WORDS or word in PERSON_WORDS or _tokenizer().FREQ.get(word, 0) >= COMMON_FREQUENCY:
        return False
    if word in known.talk:
        return False
    if any(word in name for name in known.names):
        return False  # the sample's own item vocabulary ("道路" of 道路货物运输): training data names those by design
    users = sum(1 for text in known.texts if word in text)
    return users < max(2, COMMON_SHARE * len(known.texts))


@dataclass(frozen=True)
class Header:
    title: str
    aliases: tuple[str, ...]
    region: str


def guide_header(path: Path) -> Header:
    """Title, aliases and region of a guide: the one reader of guide names for these checks. A guide the KB's parser
    rejects (a missing section) still names its item, so its front matter is read directly."""
    guide, _problems = parse_guide(path)
    if guide is not None:
        return Header(guide.title, tuple(guide.aliases), guide.region)
    parts = path.read_text(encoding="utf-8").split("---")
    if len(parts) < 3:
        raise ValueError(f"{path}: 没有 front matter（文件开头应有 --- 包起来的 title/aliases/region）")
    front = yaml.safe_load(parts[1]) or {}
    return Header(str(front.get("title") or ""), tuple(str(a) for a in front.get("aliases") or []),
                  str(front.get("region") or ""))


def guide_names(path: Path) -> set[str]:
    """Title, its parts around brackets ("企业开办（公司设立登记）" -> 企业开办, 公司设立登记) and aliases, of 2+ characters."""
    header = guide_header(path)
    return names_of(header.title, header.aliases)


def name_core(name: str) -> str:
    """A name without the procedure words around it: "食品生产许可证核发" -> 食品生产. Two everyday words can make one
    item ("食品生产" of 食品 and 生产, each dropped as a word of its own), and a name made only of procedure words
    ("检验检测机构资质认定") has no core: the whole name is checked too (`guide_item_words`)."""
    tokens = [token for token in _tokenizer().lcut(re.sub(r"[（）()、，]", "", name)) if token.strip()]
    while tokens and tokens[0] in PROCEDURE_WORDS:
        tokens.pop(0)
    while tokens and tokens[-1] in PROCEDURE_WORDS:
        tokens.pop()
    return "".join(tokens)


# A whole name, or its core, this long names the item wherever it stands.
WHOLE_NAME_CHARS = 4


def guide_item_words(path: Path, known: Background) -> set[str]:
    header = guide_header(path)
    places = _region_words(header.region)
    words = set().union(*(candidate_words(name) for name in [header.title, *header.aliases]))
    words = {word for word in words if not any(place in word for place in places) and is_item_word(word, known)}
    # the names themselves and their cores, unless a sample guide's name holds them (its items are trained by design)
    wholes = {form.lower() for name in names_of(header.title, header.aliases) for form in (name, name_core(name))}
    return words | {form for form in wholes if len(form) >= WHOLE_NAME_CHARS and not any(place in form for place in places)
                    and not any(form in sample.lower() for sample in known.names)}


def item_words(folders: Iterable[Path], background_folder: Path = SAMPLE_GUIDES) -> dict[str, set[str]]:
    """Item words of every guide in `folders`, keyed "<set folder>/<file stem>" (e.g. "dev5/metrology-verification")."""
    known = background(background_folder)
    return {f"{path.parent.parent.name}/{path.stem}": guide_item_words(path, known)
            for folder in folders for path in sorted(folder.glob("*.md"))}


def training_examples(nlu_file: Path = NLU_FILE) -> list[str]:
    blocks = yaml.safe_load(nlu_file.read_text(encoding="utf-8"))["nlu"]
    return [line.strip()[2:] for block in blocks for line in str(block.get("examples") or "").splitlines()
            if line.strip().startswith("- ")]


# A longer token that starts with a 2-character item word and ends in one of these names the item by its office,
# paper, person or fee: 公证处, 公证书, 收养人, 救助站, 防雷费.
NAMED_BY_ENDING = "处书人员站所馆局科证费"


def names_word(example: str, word: str) -> bool:
    """A word of 3-4 characters anywhere (Latin letters in any case); one of two only as a word of its own or at the
    start of a token ending in an office/paper/person/fee character: "跨区" is not in "跨区域", "危险" not in "高危险性",
    but "公证" is in "公证处"."""
    example, word = example.lower(), word.lower()
    if word not in example:
        return False
    if len(word) > 2:
        return True
    return any(token == word or (len(token) > 2 and token.startswith(word) and token[-1] in NAMED_BY_ENDING)
               for token in _tokens(example))


@lru_cache(maxsize=8192)
def _tokens(example: str) -> tuple[str, ...]:
    # Each example is checked against every guide's 2-character words: cut it once.
    return tuple(_tokenizer().lcut(example))


def find_leaks(examples: Iterable[str], words: dict[str, set[str]]) -> list[Leak]:
    return sorted({Leak(example, guide, word) for example in examples for guide, guide_words in words.items()
                   for word in guide_words if names_word(example, word)}, key=lambda leak: (leak.guide, leak.word, leak.example))


def held_out_message(examples: Iterable[str]) -> str:
    """What a failing held-out check may print: the flagged training examples (our own data) and their count, never
    the held-out guides' ids or words, which whoever reads the failure must not see."""
    flagged = sorted(set(examples))
    return (f"{len(flagged)} 个训练例句提到了留出集的事项，请换成不提这些事项的说法：" + "；".join(flagged[:40]) +
            "（在开发集上看原因：python -m bot.launcher.nlu_leaks tests/data/dev*/guides --words）")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="训练例句是否提到了某些指南的事项（含换个说法）")
    parser.add_argument("folders", nargs="+", type=Path, help="指南目录，例如 tests/data/dev*/guides")
    parser.add_argument("--words", action="store_true", help="也列出每个指南的事项词")
    args = parser.parse_args(argv)
    words = item_words(args.folders)
    if args.words:
        for guide, guide_words in words.items():
            print(f"{guide}: {'、'.join(sorted(guide_words))}")
    leaks = find_leaks(training_examples(), words)
    for leak in leaks:
        print(f"{leak.example}\t{leak.guide}\t{leak.word}")
    print(f"提到这些事项的训练例句 {len({leak.example for leak in leaks})} 个")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
