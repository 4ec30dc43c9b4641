from setuptools import find_packages, setup

package_name = 'perception_ros_glue'

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
    description='ROS glue shared by the perception nodes: image and detection conversions, '
                'node parameters and main loop, drawing, MOT rows.',
    license='Apache-2.0',
)
