"""The local stack (SPEC §2). Importing it installs the botocore hook that routes every boto3 session to moto
while a stack runs (local_stack.aws): import it before creating boto3 clients."""

from local_stack.runtime import ROOT_KEY, LocalRuntime
from local_stack.seed import DEMO_ADMIN_KEY

__all__ = ["DEMO_ADMIN_KEY", "ROOT_KEY", "LocalRuntime"]
