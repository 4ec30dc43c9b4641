from setuptools import find_packages, setup

package_name = 'perception_maskrcnn'

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
    description='Mask R-CNN / YOLO detection and instance segmentation: library, ROS 2 node, training kit.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'detector_node = perception_maskrcnn.detector_node:main',
            'perception-detect = perception_maskrcnn.tools.detect:main',
            'perception-train-maskrcnn = perception_maskrcnn.training.train:main',
            'perception-eval-maskrcnn = perception_maskrcnn.training.evaluate:main',
            'perception-make-coco = perception_maskrcnn.training.synthetic_coco:main',
        ],
    },
)
