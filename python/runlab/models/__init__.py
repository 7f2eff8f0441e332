"""The model registry on the client: ``runlab.model(...)`` logs a version from a run,
``runlab.load_model("churn@production")`` loads one anywhere.

    flavors.py       model directories (MLflow's format): save_model, load_model_dir, LoadedModel
    signature.py     signatures inferred from an example; MLflow's format
    profile.py       reference profiles of training inputs and predictions (drift checks)
    requirements.py  the pinned packages a model needs
    registry.py      runlab.model, runlab.load_model, download_version, resolve
    cli.py           `runlab models …`
    pyfunc.py        the loader `mlflow.pyfunc.load_model` calls for Runlab's python flavor
"""
