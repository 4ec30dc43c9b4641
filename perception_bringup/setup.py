from glob import glob

from setuptools import find_packages, setup

package_name = 'perception_bringup'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        # The workspace-level bring-up files, so `ros2 launch perception_bringup
        # tracking.launch.py` works from an installed (non-symlink) tree too.
        ('share/' + package_name + '/launch', glob('../launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('../config/*.yaml') + glob('../config/*.rviz')
         + glob('../config/*.xml')),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='Perception team',
    maintainer_email='perception@example.com',
    description='Bag tools, offline processing and node-graph runner for the perception stack.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'perception-video-to-bag = perception_bringup.video_to_bag:main',
            'perception-bag-play = perception_bringup.bag_play:main',
            'perception-bag-record = perception_bringup.bag_record:main',
            'perception-process-bag = perception_bringup.process_bag:main',
            'perception-run-graph = perception_bringup.run_graph:main',
            'perception-demo = perception_bringup.demo:main',
        ],
    },
)
