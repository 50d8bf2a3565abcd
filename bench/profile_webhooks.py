"""`python -m bench.profile webhooks ...` under the name it was first published by: cProfile of
distinct and duplicate Stripe deliveries (see bench.profile)."""

import sys

from bench.profile import main

if __name__ == "__main__":
    main(["webhooks", *sys.argv[1:]])
