"""Client (a), `seed-threads`: the seed's thread pool of 50 blocking `requests.get` calls (notes §5.1).

The request construction, the Redis source list and the quota-header handling are the notes' code,
kept as close to verbatim as a runnable file allows. Changes, each marked `# bench:` below:
- `concurrent.futures.ThreadPoolExecutor(50)` replaces `threadpool.ThreadPool(50)`: the
  `threadpool` package is unmaintained (its author marks it obsolete and points to
  concurrent.futures) and is not in our pins; both run 50 worker threads over a queue holding every
  job, and both swallow a job's exception (threadpool printed it from its default exc_callback;
  here it is counted as a lost source).
- the URL is the simulator's base URL, the Redis connection comes from the command line, and
  `requests.get` gets `timeout=10` (the seed had none, so a hung call would hang a worker forever).
- jrtt, which the §5.1 script never fetched, is requested the way the notes' §1.3.2 does it: the
  `Access-Token` header and the parameters as a JSON body, with no quota-header analysis (jrtt
  sends no `X-RateLimit-Remaining`; the seed's gdt code would crash on the missing header).
- each response body is also counted (records, codes) for the harness. Like the seed, nothing is
  retried: a non-zero code, an exception or a timeout is a lost source.
"""

# ruff: noqa: UP032 -- the seed's str.format calls are kept as the notes wrote them

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.clients import seed_common
from bench.clients.seed_common import get_param, get_source_list, print_header_analysis
from bench.clients.tally import Tally, parse_args


def requests_get_resp(param):
    url, parameters = get_param(param)
    resp = requests.get(url, params=parameters, timeout=seed_common.ARGS.timeout)  # bench: timeout
    # print(resp.headers)
    content = resp.json()
    print_header_analysis(resp.headers)
    print(content)
    return content  # bench: counted by the caller


def requests_get_jrtt(param):
    """bench: notes §1.3.2's jrtt call (Access-Token header, JSON body) for advertiser/fund/get."""
    url = seed_common.ARGS.base_url + "/open_api/2/advertiser/fund/get/"
    params = {"advertiser_id": param["account_id"]}
    headers = {"Content-Type": "application/json", "Access-Token": param["account_token"]}
    resp = requests.get(url, json=params, headers=headers, timeout=seed_common.ARGS.timeout)
    resp_data = resp.json()
    print(resp_data)
    return resp_data


def main(argv=None):
    seed_common.ARGS = args = parse_args(__doc__.splitlines()[0], argv)
    tally = Tally("seed-threads", args.media)
    lock = threading.Lock()
    fetch_one = requests_get_jrtt if args.media == "jrtt" else requests_get_resp

    def job(param):  # bench: count each outcome as it happens, so no response outlives its job
        try:
            content = fetch_one(param)
        except Exception as exc:  # what threadpool's default exc_callback printed and dropped
            with lock:
                tally.error(exc)
        else:
            with lock:
                tally.response(param["account_id"], content)

    params = get_source_list()  #  准备一个全量的参数
    start_time2 = time.perf_counter()
    # bench: ThreadPoolExecutor(50) in place of threadpool's makeRequests/ThreadPool(50)/wait()
    with ThreadPoolExecutor(50) as thread_pool:
        for param in params:
            thread_pool.submit(job, param)
    end_time2 = time.perf_counter()
    print("Resquests Download {} sites in {} seconds".format(len(params), end_time2 - start_time2))
    tally.write(args.out, sources=[p["account_id"] for p in params], seconds=end_time2 - start_time2)


if __name__ == "__main__":
    main()
