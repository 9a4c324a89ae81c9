"""What `make run` prints once everything is up: where each part listens and how to try it."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from bot.launcher.servers import redact
from protocol import REST_TOKEN_ENV, REST_TOKEN_FILE, STAFF_TOKEN_ENV, STAFF_TOKEN_FILE

if TYPE_CHECKING:
    from bot.launcher.stack import Stack


def print_ready(stack: Stack) -> None:
    from bot.launcher.stack import KEFU_TOKEN_ENV, TELEGRAM_TOKEN_ENV, TOKEN_ENV  # stack imports this module
    # The hall token is printed only when we generated it; a token set in the environment stays there.
    generated = not stack.env.get(KEFU_TOKEN_ENV)
    kefu_token_hint = (f"令牌（已生成，存于 {stack.settings.secrets_dir / 'kefu_token'}）：{stack.kefu_token}"
                       if generated else f"令牌：环境变量 {KEFU_TOKEN_ENV}")
    token_shell = f"$(cat {stack.settings.secrets_dir / 'kefu_token'})" if generated else "$" + KEFU_TOKEN_ENV
    staff_generated = not stack.env.get(STAFF_TOKEN_ENV)
    staff_hint = (f"坐席令牌（已生成，存于 {stack.settings.secrets_dir / STAFF_TOKEN_FILE}，只给工作人员）"
                  if staff_generated else f"坐席令牌：环境变量 {STAFF_TOKEN_ENV}")
    mode = "长轮询" if stack.settings.telegram_mode == "polling" else "webhook"
    telegram = (f"已启动（{mode}；令牌无效等问题见 {stack.logs / 'telegram.log'}）" if stack.telegram is not None
                else f"未启动（设置环境变量 {TELEGRAM_TOKEN_ENV} 后启动）")
    print(f"""
✓ 政务服务智能问答助手已启动
  网页对话（大厅/自助终端） {stack.kefu_url}/#token={stack.kefu_token if generated else '<令牌>'}
{public_line(stack)}  智能云客服接口            {stack.kefu_url}/api/v1/chat   接口文档 {stack.kefu_url}/docs
                            {kefu_token_hint}
  人工坐席（工作人员）      {stack.kefu_url}/desk   {staff_hint}
  Telegram 机器人           {telegram}
  Rasa（REST 渠道）         {stack.rest_url}  （需要令牌：{stack.settings.secrets_dir / REST_TOKEN_FILE} 或环境变量 {REST_TOKEN_ENV}）
  Rasa HTTP API             {stack.rasa_url}  （需要令牌：{stack.settings.secrets_dir / 'rasa_token'} 或环境变量 {TOKEN_ENV}）
  动作服务器                {stack.action_url}
{scale_out_lines(stack)}  日志                      {stack.logs}

试一试：
  curl -s {stack.kefu_url}/api/v1/chat -H "Authorization: Bearer {token_shell}" \\
       -H 'Content-Type: application/json' -d '{{"session_id": "demo", "message": "开办企业需要什么材料"}}'

按 Ctrl-C 停止。""", flush=True)


def public_line(stack: Stack) -> str:
    """The address citizens' phones open without a token, when the public mode is on (settings.kefu_public)."""
    if not stack.settings.kefu_public:
        return ""
    return f"  {_pad('网页对话（群众手机，公开）')}{stack.kefu_url}/   （无需令牌；每个会话、每个地址都有限流）\n"


def scale_out_lines(stack: Stack) -> str:
    """The Rasa instances, the action servers and the stores (passwords hidden), when scaled out."""
    settings = stack.settings
    lines = [f"  {_pad(label)}{len(pool.ports)} 个，端口 {', '.join(map(str, pool.ports))}（HAProxy 在 {pool.port}）\n"
             for label, pool in (("Rasa 实例", stack.pool), ("动作服务器实例", stack.action_pool)) if pool is not None]
    lines += [f"  {_pad(name)}{redact(url)}\n" for name, url in (("对话和记录（PostgreSQL）", settings.database_url),
                                                                ("对话锁（Redis）", settings.redis_url)) if url]
    return "".join(lines)


def _pad(label: str, columns: int = 26) -> str:
    """`label` padded to the terminal columns of the other labels (a Chinese character takes two)."""
    width = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in label)
    return label + " " * max(1, columns - width)
