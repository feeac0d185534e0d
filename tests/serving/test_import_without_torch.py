"""The serving side (and the commands that use it) import and run without torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKER = textwrap.dedent("""
    import sys
    class _NoTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch.") or name.startswith("exporters"):
                raise ImportError(f"{name} is blocked in this test")
            return None
    sys.meta_path.insert(0, _NoTorch())
""")


def _run(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_blocker_really_blocks(tmp_path):
    proc = _run("import torch", tmp_path)
    assert proc.returncode != 0 and "blocked" in proc.stderr


def test_serving_modules_import_and_generate_without_torch(tiny_model, tmp_path):
    code = f"""
        import shared_model.serving.session, shared_model.serving.sampling
        import shared_model.serving.decode, shared_model.serving.engine
        import shared_model.serving.registry, shared_model.serving.scoring
        import shared_model.serving.constraints, shared_model.artifact
        import shared_model.cli.generate, shared_model.cli.models
        import shared_model.cli.evaluate, shared_model.cli.info
        from shared_model.serving.registry import Registry
        from shared_model.serving.decode import Decoder
        from shared_model.serving.sampling import SamplingConfig
        session = Registry().open({str(tiny_model)!r})
        out = Decoder(session).generate("Sh", SamplingConfig(seed=1, max_new_tokens=5))
        assert out[0].tokens_generated >= 1
        assert "torch" not in sys.modules and "onnx" not in sys.modules
        print("ok")
    """
    proc = _run(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
