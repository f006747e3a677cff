"""In prod, POST /send requires an API key: the stage's API_KEY_REQUIRED=true reaches the API Gateway definition.

The Chalice CLI imports app.py with the stage's environment variables when it deploys or packages, so the
route's `api_key_required` follows the stage; the Swagger document it deploys is generated here the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SWAGGER = """
import json
from chalice.deploy.swagger import SwaggerGenerator
from app import app
doc = SwaggerGenerator("eu-west-1", {"api_handler_arn": "arn:aws:lambda:eu-west-1:1:function:f"}).generate_swagger(app)
print(json.dumps(doc["paths"]["/send"]["post"].get("security")))
"""


def stage_environment(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config["environment_variables"], **config["stages"][stage]["environment_variables"]}


def security_of(stage: str) -> object:
    env = {**os.environ, **stage_environment(stage)}
    result = subprocess.run([sys.executable, "-c", SWAGGER], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=True)
    return json.loads(result.stdout)


def test_prod_requires_an_api_key():
    assert security_of("salesforce-prod") == [{"api_key": []}]


def test_dev_does_not():
    assert security_of("dev") is None
