"""environment.yml (for conda users) pins exactly what pyproject.toml pins; the lock agrees too."""

import tomllib

import yaml


def _pins(lines):
    return dict(line.split("==", 1) for line in lines)


def test_environment_yml_matches_pyproject(project_dir):
    project = tomllib.loads((project_dir / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    env = yaml.safe_load((project_dir / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip_section) == _pins(declared)


def test_lock_contains_every_direct_pin(project_dir):
    project = tomllib.loads((project_dir / "pyproject.toml").read_text())["project"]
    declared = _pins(project["dependencies"] + project["optional-dependencies"]["test"])
    lock = _pins(l for l in (project_dir / "requirements.lock").read_text().splitlines()
                 if l and not l.startswith("#"))
    lock = {k.lower().replace("_", "-"): v for k, v in lock.items()}
    for name, version in declared.items():
        assert lock.get(name.lower()) == version, name


def test_workflow_conda_env_pins_the_runtime_dependencies(project_dir):
    """workflow/envs/reprisma.yaml (the rules' `conda:` environment) pins exactly pyproject.toml's
    runtime dependencies, on the same Python."""
    project = tomllib.loads((project_dir / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((project_dir / "workflow" / "envs" / "reprisma.yaml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip_section) == _pins(project["dependencies"])
