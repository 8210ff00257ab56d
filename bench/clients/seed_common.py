"""The seed's shared pieces of notes §5.1: the Redis source list, `get_param`, the quota-header check.

Both seed clients use these, as both of the notes' scripts did. Only `redis` and the standard
library are imported here, so neither client carries the other's HTTP stack in its peak RSS.
Changes from the notes are marked `# bench:`.
"""

# ruff: noqa: UP032 -- the seed's str.format calls are kept as the notes wrote them

from __future__ import annotations

import json
import random
import resource
import time

import redis

ARGS = None  # bench: the command line, set in main()


def get_source_list():
    tenant_alias = ARGS.tenant  # bench: was 'T100117'
    data_date_short = ARGS.date  # bench: was '20200611'
    if ARGS.media == "jrtt":
        return get_jrtt_source_list(tenant_alias, data_date_short)
    redis_account_key = "gdt_advertiser_v1.1_{}_{}".format(tenant_alias, data_date_short)
    r = RedisConnection.get_connection()
    ret = []
    """
     (None, {'params': {'account_token': '46f45241ab103e9a769e24366b870e19',
      'agent_id': 1050262, 'account_id': '10707125'}}), ..., (), ()]
    """
    for token, agent_id in r.zrange("gdt_new_access_token_{}".format(tenant_alias), 0, -1, withscores=True):
        for account in r.zrangebyscore(redis_account_key, int(agent_id), int(agent_id)):
            ret.append(
                {"account_token": token.decode(), "agent_id": int(agent_id), "account_id": account.decode()}
            )
    return ret


def get_jrtt_source_list(tenant_alias, data_date_short):
    """bench: the same walk over jrtt's keys (first-tier direct accounts, then second-tier accounts)."""
    r = RedisConnection.get_connection()
    account_keys = [
        "jrtt_accounts_v2_{}_{}".format(tenant_alias, data_date_short),
        "jrtt_child_advertiser_v2_{}_{}".format(tenant_alias, data_date_short),
    ]
    ret = []
    for token, agent_id in r.zrange("jrtt_new_access_token_{}".format(tenant_alias), 0, -1, withscores=True):
        for redis_account_key in account_keys:
            for account in r.zrangebyscore(redis_account_key, int(agent_id), int(agent_id)):
                ret.append(
                    {
                        "account_token": token.decode(),
                        "agent_id": int(agent_id),
                        "account_id": account.decode(),
                    }
                )
    return ret


class RedisConnection:
    """bench: stands in for the seed's `api_data.api_common.RedisConnection` (db 2, one client)."""

    _client = None

    @classmethod
    def get_connection(cls):
        if cls._client is None:
            cls._client = redis.Redis(host=ARGS.redis_host, port=ARGS.redis_port, db=ARGS.redis_db)
        return cls._client


def get_param(param):
    parameters = {
        "access_token": param["account_token"],
        "timestamp": int(time.time()),
        "nonce": str(time.time()) + str(random.randint(0, 999999)),
    }
    parameters.update({"account_id": param["account_id"]})
    for k in parameters:  # 这个循环还暂时少不了，除非保证传入的都是字符串
        if type(parameters[k]) is not str:
            parameters[k] = json.dumps(parameters[k])
    url = ARGS.base_url + "/v1.1/funds/get"  # bench: was 'https://api.e.qq.com/v1.1/funds/get'
    return url, parameters


def print_header_analysis(header_info):
    rate_limit = header_info.get("X-RateLimit-Remaining")  # 当前请求接口的频次余量百分比(99%,74%)(天,分钟)
    daily_quota, minutely_quota = rate_limit.replace("%", "").split(",")
    trace_id = header_info.get("X-TSA-Trace-Id")  # 媒体全局唯一id
    if int(daily_quota) < 20 or int(minutely_quota) < 20:
        time.sleep(random.randint(0, 3))  # 如果是aiohttp调用，这里需要变成 asyncio.sleep() '重要'
    print(rate_limit, get_mem_info(), trace_id)


def get_mem_info():  # {:.1f}MB
    # The seed's /1000000 assumed bytes (macOS); Linux reports KiB. Only printed: the harness
    # measures peak RSS itself.
    return "{:.1f}MB".format(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000000)
