"""The JVM side of the stack: a JDK 17 to run on, and jars resolved from Maven Central.

HBase 2.6 needs JDK 17 exactly (Hadoop's security code breaks on the JDK 25 that may sit next
to it), so we never trust PATH or JAVA_HOME blindly. Jars are resolved once into a cache
outside the git tree; a marker file records a finished resolution, so an interrupted download
is simply resumed by the next `make stack`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from string import Template

from ark_stack.progress import Reporter
from ark_stack.service import StackError, require_program

_TEMPLATES = Path(__file__).parent / "templates"
_JDK17_CANDIDATES = ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/java-17-openjdk-arm64")
# Resolution goes through the dependency plugin at a pinned version, so it is reproducible.
_COPY_DEPENDENCIES = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies"


def render_template(name: str, **values: object) -> str:
    return Template((_TEMPLATES / name).read_text()).substitute({k: str(v) for k, v in values.items()})


def java17() -> str:
    """Path of a JDK 17 `java`: `ARK_JAVA_HOME` if set, else Debian's OpenJDK 17."""
    homes = [os.environ["ARK_JAVA_HOME"]] if "ARK_JAVA_HOME" in os.environ else list(_JDK17_CANDIDATES)
    for home in homes:
        java = Path(home) / "bin" / "java"
        if java.exists():
            version = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
            if re.search(r'version "17\.', version):
                return str(java)
    raise StackError(
        "HBase and Kafka need a JDK 17 (`apt-get install openjdk-17-jdk-headless`), "
        "or set ARK_JAVA_HOME to one; JDK 18+ breaks HBase's Hadoop security code"
    )


def resolve_jars(label: str, pom: str, dest: Path, reporter: Reporter, *, drop: tuple[str, ...] = ()) -> Path:
    """Copy the runtime dependencies of `pom` into `dest/lib` (once); returns the lib directory.

    `drop` lists jar-name prefixes to delete afterwards (duplicate logging bindings).
    """
    lib = dest / "lib"
    marker = dest / ".resolved"
    if marker.exists() and marker.read_text() == pom:
        return lib
    mvn = require_program("mvn", "install Debian's maven package")
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "pom.xml").write_text(pom)
    shutil.rmtree(lib, ignore_errors=True)
    log_path = dest / "mvn.log"
    with open(log_path, "w") as log, reporter.waiting(f"Resolving {label} jars from Maven Central") as update:
        proc = subprocess.Popen(
            [mvn, "-B", "-q", _COPY_DEPENDENCIES, "-DincludeScope=runtime", f"-DoutputDirectory={lib}"],
            cwd=dest,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        done = threading.Event()
        threading.Thread(target=lambda: (proc.wait(), done.set()), daemon=True).start()
        while not done.wait(1.0):
            jars = list(lib.glob("*.jar")) if lib.exists() else []
            update(f"{len(jars)} jars, {sum(j.stat().st_size for j in jars) / 2**20:.0f} MB")
    if proc.returncode != 0:
        tail = log_path.read_text()[-1500:]
        raise StackError(f"Maven could not resolve the {label} jars (see {log_path}):\n{tail}")
    for prefix in drop:
        for jar in lib.glob(f"{prefix}*.jar"):
            jar.unlink()
    marker.write_text(pom)
    return lib
