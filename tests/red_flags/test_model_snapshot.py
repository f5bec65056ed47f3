"""A model is self-contained (issue 12): the red-flag component stores the flag file, lexicons and its spaCy
pipeline in Rasa's model storage at training and compiles the detector from that copy when the model loads."""
from __future__ import annotations

import logging

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.red_flag_detector import RedFlagDetector
from bot.triage.detect import detect_red_flags
from bot.triage.snapshot import FLAGS_NAME

POP = "I heard a pop in my achilles on my run"
CHINESE_POP = "跑步時腳踭啪一聲，而家行唔到路"


def trained(tmp_path):
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("red_flag_detector")
    context = ExecutionContext(GraphSchema({}), "test-model")
    config = RedFlagDetector.get_default_config()
    component = RedFlagDetector.create(config, storage, resource, context)
    assert component.train(TrainingData()) == resource
    return storage, resource, context, config


def detect(component: RedFlagDetector, text: str, language: str = "en") -> dict:
    message = Message(data={"text": text, "language": language})
    component.process([message])
    return message.get("red_flags")


def test_training_stores_the_triage_data_and_loading_uses_it(tmp_path):
    storage, resource, context, config = trained(tmp_path)
    with storage.read_from(resource) as directory:
        stored = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())
    assert FLAGS_NAME in stored and "lexicon/en.yml" in stored and "lexicon/zh-Hant.yml" in stored
    assert "spacy_pipeline/meta.json" in stored
    loaded = RedFlagDetector.load(config, storage, resource, context)
    assert loaded.data.origin == "model"
    assert detect(loaded, POP)["level"] == "same_day"
    assert detect(loaded, CHINESE_POP, "zh-Hant")["level"] == "same_day"


def test_the_loaded_detector_follows_the_models_copy_not_the_checkout(tmp_path):
    storage, resource, context, config = trained(tmp_path)
    with storage.read_from(resource) as directory:
        flags = directory / FLAGS_NAME
        text = flags.read_text(encoding="utf-8")
        marker = "  - id: rupture_pop_snap\n    level: same_day"
        assert marker in text
        flags.write_text(text.replace(marker, "  - id: rupture_pop_snap\n    level: soon"), encoding="utf-8")
    loaded = RedFlagDetector.load(config, storage, resource, context)
    assert detect(loaded, POP)["level"] == "soon"          # the model's (edited) copy decides
    assert detect_red_flags(POP).level == "same_day"       # the checkout is unchanged


def test_a_model_without_a_snapshot_falls_back_to_the_checkout_and_says_so(tmp_path, caplog):
    storage = LocalModelStorage(tmp_path / "storage")
    context = ExecutionContext(GraphSchema({}), "old-model")
    with caplog.at_level(logging.WARNING):
        loaded = RedFlagDetector.load(RedFlagDetector.get_default_config(), storage, Resource("missing"), context)
    assert loaded.data.origin == "checkout" and "python -m bot build" in caplog.text
    assert detect(loaded, POP)["level"] == "same_day"
