"""(6) The bank's webhook, distinct operations per second: `bench.webhooks --bank`.

.venv/bin/python -m bench.bank [--app-dir [LABEL=]PATH ...] [--operations 400] [--rounds 3]
    [--port 8250] [--no-record]
"""

import sys

from bench import webhooks

if __name__ == "__main__":
    webhooks.main(["--bank", *sys.argv[1:]])
