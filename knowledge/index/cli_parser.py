"""The argparse layer of index_builder.py, in Chinese: headings, help and argparse's own error
messages (the admin reads Chinese throughout), and the exit codes the tool documents.

Usage::

    parser = ChineseParser(prog="index_builder.py", description="…")
    parser.parse_args(argv)     # a usage error: Chinese message, exit code EXIT_USAGE
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_INDEX = 0, 1, 2, 3


class ChineseHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


# argparse's own English error messages (Python 3.11), said in Chinese; the last one catches the rest.
ARGPARSE_ERRORS = [
    (r"the following arguments are required: (.*)", r"缺少必需的参数：\1"),
    (r"one of the arguments (.*) is required", r"参数 \1 必须给出一个"),
    (r"unrecognized arguments: (.*)", r"无法识别的参数：\1"),
    (r"ambiguous option: (\S+) could match (.*)", r"选项 \1 不明确，可能是：\2"),
    (r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)", r"参数 \1 的值 \2 无效，可选：\3"),
    (r"argument (\S+): invalid int value: (.*)", r"参数 \1 的值 \2 不是整数"),
    (r"argument (\S+): expected one argument", r"参数 \1 后面需要一个值"),
    (r"argument (\S+): not allowed with argument (.*)", r"参数 \1 不能与 \2 同时使用"),
    (r"argument (\S+): (.*)", r"参数 \1：\2"),
]


class ChineseParser(argparse.ArgumentParser):
    """argparse with Chinese headings, help and error messages (the admin reads Chinese throughout)."""

    def __init__(self, *args, add_help: bool = True, **kwargs) -> None:
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title, self._optionals.title = "位置参数", "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def error(self, message: str) -> NoReturn:
        for pattern, chinese in ARGPARSE_ERRORS:
            message, found = re.subn(f"^{pattern}$", chinese, message, flags=re.S)
            if found:
                break
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}：错误：{message}\n")
