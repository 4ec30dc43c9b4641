from setuptools import find_packages, setup

package_name = 'perception_deepsort'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='Perception team',
    maintainer_email='perception@example.com',
    description='DeepSORT multi-object tracking: library, ROS 2 node, re-ID training, MOT evaluation.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'tracker_node = perception_deepsort.tracker_node:main',
            'perception-track-mot = perception_deepsort.mot.track:main',
            'perception-eval-mot = perception_deepsort.mot.evaluate:main',
            'perception-make-mot = perception_deepsort.mot.synthetic:main',
            'perception-train-reid = perception_deepsort.training.train:main',
            'perception-eval-reid = perception_deepsort.training.evaluate:main',
            'perception-make-market = perception_deepsort.training.synthetic_market:main',
            'perception-mot-reid-crops = perception_deepsort.mot.reid_crops:main',
        ],
    },
)
