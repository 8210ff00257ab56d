"""What Dagster loads (`load_from_defs_folder`): the media, automation, the resources.

- `media.py`: every media of the registry, its assets, checks and daily job;
- `automation/`: the cross-media jobs, the schedules and the sensors;
- `resources.py`: every resource, configured from the settings (`ARK_*` variables);
- `executor.py`: the executor of every job, chosen by `ARK_EXECUTOR`.
"""
