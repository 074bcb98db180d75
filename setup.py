"""Map the top-level folders onto one distribution, ``kgtransfer``.

``kgtransfer`` is the small root package in ``kgtransfer/``; ``kg/``, ``transfer/``,
``models/`` and ``data/`` become ``kgtransfer.kg`` and so on. Every nested
subpackage is found here, so a regular (non-editable) install never lacks one.
"""

from setuptools import find_packages, setup

FOLDERS = {
    "kgtransfer": "kgtransfer",
    "kgtransfer.kg": "kg",
    "kgtransfer.transfer": "transfer",
    "kgtransfer.models": "models",
    "kgtransfer.data": "data",
}

packages = []
for name, folder in FOLDERS.items():
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=FOLDERS)
