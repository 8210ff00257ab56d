"""What Dagster loads (`load_from_defs_folder`): a folder per media, automation, the resources.

- `<media>/defs.yaml`: that media's assets, checks and daily job (the `MediaAssets` component);
- `automation/`: the cross-media jobs, the schedules and the sensors;
- `resources.py`: every resource, configured from `ARK_*` variables;
- `executor.py`: the executor of every job, chosen by `ARK_EXECUTOR`.
"""
