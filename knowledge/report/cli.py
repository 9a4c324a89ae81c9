"""`index_builder.py report`, `purge` and `copy-records`, the admin commands on the records: the report's options
(period, channel, test traffic, output file), writing it, deleting what is older than the retention period, and
moving the records from the SQLite file to PostgreSQL (knowledge/records/transfer.py).

    python3 index_builder.py report                                  # last 30 days, every channel, no test traffic
    python3 index_builder.py report --days 7 --channel kefu          # the hall API (web page, kiosks) only
    python3 index_builder.py report --since 2026-11-01 --until 2026-11-30 --channel telegram
    python3 index_builder.py report --include-test                   # count tests, benchmarks and probes too

Usage from index_builder.py::

    add_report_arguments(sub.add_parser("report", help="…"))
    status = run_report(args, settings)       # 0 written, 1 database or file problem, 2 bad period or setting
    status = run_purge(args, settings)         # 0 purged, 1 a database could not be purged, 2 bad --days
    status = run_copy_records(args, settings)  # 0 copied, 1 refused (nothing written)
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from knowledge.records.store import now_on
from knowledge.report.filters import ALL, CHANNEL_NAMES, CHANNELS, Filters

if TYPE_CHECKING:  # stats imports numpy and scipy: only the report itself needs them, not every command's parser
    from knowledge.report.stats import Period

MAX_DAYS = 366  # the report draws one column per day: a year at most (records are kept retention_days anyway)
DEFAULT_DAYS = 30
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期 {text!r} 的格式不对，应为 年-月-日，例如 2026-11-01") from None


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    channels = "、".join(f"{c}={CHANNEL_NAMES[c]}" for c in CHANNELS if c != ALL)
    parser.add_argument("--days", type=int, metavar="天数", help=f"统计最近多少天（默认 {DEFAULT_DAYS}，含今天或 --until 那天，最多 {MAX_DAYS}）")
    parser.add_argument("--since", type=_date, metavar="日期", help="从这一天起统计（年-月-日，含当天；不能与 --days 同用）")
    parser.add_argument("--until", type=_date, metavar="日期", help="统计到这一天（年-月-日，含当天；默认今天）")
    parser.add_argument("--channel", choices=CHANNELS, default=ALL, help=f"只统计一个渠道：{channels}；默认 all（全部）")
    parser.add_argument("--include-test", action="store_true",
                        help="计入测试流量（测试、压测、评测和探测的对话，发送者标识见 protocol.py 的 TEST_SENDER_PREFIXES）")
    parser.add_argument("--out", metavar="文件", help="输出文件（默认 reports_dir/admin-report-<日期>.html，按渠道等另加后缀）")


def report_period(args: argparse.Namespace, today: dt.date) -> Period | str:
    """The period asked for, or a Chinese sentence saying what is wrong with it."""
    from knowledge.report.stats import Period

    end = args.until or today
    if args.since is not None and args.days is not None:
        return "--since 和 --days 只能用一个：--since 给出起始日期，--days 给出天数"
    if args.days is not None and not 1 <= args.days <= MAX_DAYS:
        return f"--days 必须是 1 到 {MAX_DAYS} 之间的整数"
    if args.since is None:
        try:
            return Period.last_days(args.days or DEFAULT_DAYS, end)
        except OverflowError:
            return f"--until {end} 太早了：统计期间不能早于公元 1 年"
    if args.since > end:
        return f"--since {args.since} 晚于统计截止日 {end}"
    if (end - args.since).days + 1 > MAX_DAYS:
        return f"统计期间最长 {MAX_DAYS} 天（{args.since} 至 {end} 共 {(end - args.since).days + 1} 天）"
    return Period(args.since, end)


def records_location(settings: Any) -> Path | str:
    """Where the records are, for a message: the SQLite file, or PostgreSQL (never its URL: it holds the password)."""
    return "PostgreSQL，database_url" if settings.database_url else settings.records_db


def database_problem(name: str, path: Path | str, error: Exception) -> str:
    """A Chinese sentence for a database that cannot be used (never a traceback for the admin)."""
    error = getattr(error, "orig", None) or error  # SQLAlchemy's wrapper adds the SQL statement: the driver's words suffice
    text = str(error).lower()
    if "locked" in text or "busy" in text:
        return f"{name}正被其他程序占用，暂时无法写入（{path}）：请稍后重试"
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return f"{name}文件已损坏或不是 SQLite 数据库（{path}）：请从备份恢复，或移走该文件（其中的记录会丢失）"
    return f"{name}无法读写（{path}）：{error}"


def run_report(args: argparse.Namespace, settings) -> int:
    from knowledge.report.admin import write_report
    from knowledge.report.answer_lines import odds_problem

    now = now_on(settings.staff_timezone)  # the clock records are stamped on
    period = report_period(args, now.date())
    if isinstance(period, str):
        print(period, file=sys.stderr)
        return EXIT_USAGE
    problem = odds_problem(settings.report_low_confidence_odds)  # said before anything is read, as purge's retention_days
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_USAGE
    filters = Filters(channel=args.channel, include_test=args.include_test)
    try:
        path, report = write_report(settings, out=Path(args.out).resolve() if args.out else None, now=now, period=period,
                                    filters=filters)
    except (sqlite3.Error, SQLAlchemyError) as error:
        print("报告生成失败：" + database_problem("问答记录库", records_location(settings), error), file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:
        print(f"报告写入失败：{error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"报告已写入 {path}")
    print(report.summary())
    return EXIT_OK


# --- purge: the records, Rasa's tracker store and old admin reports past the retention period -------

MAX_PURGE_DAYS = 36500  # a century: a date before year 1 cannot be computed
RECORD_TABLE_NAMES = {"questions": "提问记录", "feedback": "评价", "handoffs": "转人工记录", "desk_messages": "坐席往来消息",
                      "desk_actions": "坐席操作记录"}


def purge_tracker(path: Path, days: int) -> tuple[int, int]:
    """Delete Rasa tracker-store events older than `days` days: (events, whole conversations) deleted.

    A conversation is just its events, so one whose events are all older disappears with them;
    a conversation still going keeps its recent events.
    """
    cutoff = time.time() - days * 86400
    # mode=rw: never create an empty tracker database where Rasa has not made one.
    connection = sqlite3.connect(path.resolve().as_uri() + "?mode=rw", uri=True, timeout=5)
    try:
        connection.execute("PRAGMA secure_delete=ON")  # overwrite the deleted conversations in the file too
        with connection:
            if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone() is None:
                return 0, 0
            conversations = connection.execute(
                "SELECT COUNT(*) FROM (SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < ?)", (cutoff,)
            ).fetchone()[0]
            events = connection.execute("DELETE FROM events WHERE timestamp < ?", (cutoff,)).rowcount
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # in WAL mode the old pages also live in the -wal file
        return events, conversations
    finally:
        connection.close()


def purge_tracker_postgresql(url: str, days: int) -> tuple[int, int]:
    """purge_tracker for Rasa's tracker store on PostgreSQL (settings.database_url): the same `events` table.
    PostgreSQL reuses the deleted rows' space after its autovacuum; the rows are gone for every reader at once."""
    from sqlalchemy import create_engine, inspect, text

    from knowledge.records.database import normalized_url

    cutoff = time.time() - days * 86400
    engine = create_engine(normalized_url(url))
    try:
        with engine.begin() as connection:
            if not inspect(connection).has_table("events"):
                return 0, 0
            conversations = connection.execute(text(
                "SELECT COUNT(*) FROM (SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff) AS gone"),
                {"cutoff": cutoff}).scalar_one()
            events = connection.execute(text("DELETE FROM events WHERE timestamp < :cutoff"), {"cutoff": cutoff}).rowcount
        return events, int(conversations)
    finally:
        engine.dispose()


def run_purge(args: argparse.Namespace, settings) -> int:
    """Delete what is older than args.days (default settings.retention_days) from the records database,
    the tracker store and the admin reports; 1 when a database could not be purged, 2 for a bad number."""
    from knowledge.records.store import Records

    days = args.days if args.days is not None else settings.retention_days
    if not 1 <= days <= MAX_PURGE_DAYS:
        given = "--days" if args.days is not None else "settings.yml 中的 retention_days"
        print(f"保留天数必须是 1 到 {MAX_PURGE_DAYS} 之间的整数（{given} 是 {days}）", file=sys.stderr)
        return EXIT_USAGE
    cutoff = now_on(settings.staff_timezone) - dt.timedelta(days=days)
    print(f"保留最近 {days} 天，删除 {cutoff:%Y-%m-%d %H:%M} 之前的记录：")
    failed = False
    if not settings.database_url and not settings.records_db.exists():
        print(f"  问答记录库还不存在（{settings.records_db}），无需删除")
    else:
        try:
            counts = Records.from_settings(settings).purge_older_than(days)
        except (sqlite3.Error, SQLAlchemyError) as error:
            print("清理失败：" + database_problem("问答记录库", records_location(settings), error), file=sys.stderr)
            failed = True
        else:
            for table, count in counts.items():
                print(f"  {RECORD_TABLE_NAMES.get(table, table)}（{table}）：删除 {count} 条")
    if not settings.database_url and not settings.tracker_db.exists():
        print(f"  对话记录库还不存在（{settings.tracker_db}），无需删除")
    else:
        # With database_url, Rasa's tracker store is that PostgreSQL database (bot/launcher/balancer.py).
        location = records_location(settings) if settings.database_url else settings.tracker_db
        try:
            if settings.database_url:
                events, conversations = purge_tracker_postgresql(settings.database_url, days)
            else:
                events, conversations = purge_tracker(settings.tracker_db, days)
        except (sqlite3.Error, SQLAlchemyError) as error:
            print("清理失败：" + database_problem("对话记录库（Rasa tracker store）", location, error), file=sys.stderr)
            failed = True
        else:
            print(f"  对话事件（events）：删除 {events} 条，其中 {conversations} 个对话已全部删除")
    # Admin reports quote (masked) questions: they expire with the conversations they came from.
    old_reports = [path for path in settings.reports_dir.glob("admin-report-*.html") if path.stat().st_mtime < cutoff.timestamp()]
    for path in old_reports:
        path.unlink()
    print(f"  管理报告（{settings.reports_dir}）：删除 {len(old_reports)} 份")
    return EXIT_FAILED if failed else EXIT_OK


# --- copy-records: the SQLite file's records into PostgreSQL, when a deployment scales out ---------

def run_copy_records(args: argparse.Namespace, settings) -> int:
    """Copy the records of args.source (default settings.records_db) into settings.database_url; 1 when refused."""
    from knowledge.records.transfer import TransferError, copy_records

    source = Path(args.source) if args.source else settings.records_db
    try:
        counts = copy_records(source, settings.database_url)
    except TransferError as error:
        print(f"未复制：{error}", file=sys.stderr)
        return EXIT_FAILED
    except SQLAlchemyError as error:
        print("未复制（PostgreSQL 里没有写入任何记录）：" + database_problem("记录库", f"{source} → PostgreSQL", error), file=sys.stderr)
        return EXIT_FAILED
    print(f"已从 {source} 复制到 PostgreSQL（原文件保持不变）：")
    for table, count in counts.items():
        print(f"  {RECORD_TABLE_NAMES.get(table, table)}（{table}）：{count} 条")
    return EXIT_OK
